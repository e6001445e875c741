package dev.katashim.ttrpc.transport;

import io.netty.channel.epoll.LinuxSocket;
import io.netty.channel.epoll.VSockAddress;

import java.io.IOException;
import java.time.Duration;

/** AF_VSOCK sockets made by hand: Netty's epoll channels can adopt them but not bind or connect them. */
final class VsockSockets {
    private static final int BACKLOG = 128;

    private VsockSockets() {
    }

    static LinuxSocket listening(Endpoint.Vsock endpoint) throws IOException {
        LinuxSocket socket = LinuxSocket.newVSockStream();
        try {
            socket.bindVSock(new VSockAddress(endpoint.cid(), endpoint.port()));
            socket.listen(BACKLOG);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw new IOException("cannot listen on " + endpoint + ": " + e.getMessage(), e);
        }
    }

    static LinuxSocket connected(Endpoint.Vsock endpoint, Duration timeout) throws IOException {
        LinuxSocket socket = LinuxSocket.newVSockStream();
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            boolean done = socket.connectVSock(new VSockAddress(endpoint.cid(), endpoint.port()));
            while (!done) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("timed out after " + timeout.toMillis() + " ms");
                }
                Thread.sleep(5);
                done = socket.finishConnect();
            }
            return socket;
        } catch (IOException | InterruptedException e) {
            socket.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("cannot connect to " + endpoint + ": " + e.getMessage(), e);
        }
    }
}
