package dev.katashim.sys;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.EventExecutor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ProcessEventLoopTest {

    @Test
    void oneGroupOfOneDaemonThreadByDefault() throws Exception {
        EventLoopGroup group = ProcessEventLoop.group();
        assertThat(ProcessEventLoop.group()).isSameAs(group);
        assertThat(System.getProperty(ProcessEventLoop.THREADS_PROPERTY)).isNull();
        List<EventExecutor> executors = new ArrayList<>();
        group.iterator().forEachRemaining(executors::add);
        assertThat(executors).hasSize(1);
        Thread thread = group.submit(Thread::currentThread).get(5, TimeUnit.SECONDS);
        assertThat(thread.isDaemon()).isTrue();
        assertThat(thread.getName()).startsWith(ProcessEventLoop.THREAD_NAME + "-");
    }

    @Test
    void thePropertyAsksForAPositiveNumberOfThreads() throws Exception {
        assertThat(ProcessEventLoop.threads(null)).isEqualTo(1);
        assertThat(ProcessEventLoop.threads(" 3 ")).isEqualTo(3);
        assertThat(ProcessEventLoop.threads("0")).isEqualTo(1);
        assertThat(ProcessEventLoop.threads("-2")).isEqualTo(1);
        assertThat(ProcessEventLoop.threads("many")).isEqualTo(1);
        EventLoopGroup three = ProcessEventLoop.create(3);
        try {
            List<EventExecutor> executors = new ArrayList<>();
            three.iterator().forEachRemaining(executors::add);
            assertThat(executors).hasSize(3);
        } finally {
            three.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aServerAndItsClientShareTheGroupOverAUnixSocket(@TempDir Path dir) throws Exception {
        EventLoopGroup group = ProcessEventLoop.group();
        DomainSocketAddress address = new DomainSocketAddress(dir.resolve("echo.sock").toString());
        Channel server = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ctx.writeAndFlush(msg);
                    }
                }).bind(address).sync().channel();
        CompletableFuture<String> echoed = new CompletableFuture<>();
        Channel client = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf buf = (ByteBuf) msg;
                        echoed.complete(buf.toString(StandardCharsets.UTF_8) + " on " + Thread.currentThread().getName());
                        buf.release();
                    }
                }).connect(address).sync().channel();
        try {
            client.writeAndFlush(Unpooled.copiedBuffer("ping", StandardCharsets.UTF_8)).sync();
            assertThat(echoed.get(5, TimeUnit.SECONDS)).startsWith("ping on " + ProcessEventLoop.THREAD_NAME + "-");
        } finally {
            client.close().sync();
            server.close().sync();
        }
    }
}
