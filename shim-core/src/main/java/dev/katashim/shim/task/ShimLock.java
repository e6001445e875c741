package dev.katashim.shim.task;

import java.util.concurrent.Callable;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one lock of a shim's RPCs that change what it holds, shared by the Task and the Sandbox
 * service (upstream's shim has one service mutex for both): a StartSandbox and a Create can never
 * interleave. Reentrant, since StartSandbox hands its sandbox to the Task service under it.
 */
final class ShimLock {
    private final ReentrantLock lock = new ReentrantLock();

    <T> T call(Callable<T> rpc) throws Exception {
        lock.lock();
        try {
            return rpc.call();
        } finally {
            lock.unlock();
        }
    }
}
