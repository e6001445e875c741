package dev.katashim.shim.cli;

import dev.katashim.shim.config.RuntimeOptions;
import dev.katashim.shim.events.EventPublisher;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.shim.logging.DebugLogging;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.shim.sandbox.ShimConfig;
import dev.katashim.shim.sandbox.ShimSandboxes;
import dev.katashim.shim.task.TaskActions;
import dev.katashim.shim.task.TaskService;
import dev.katashim.ttrpc.server.TtrpcServer;
import dev.katashim.ttrpc.transport.Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The serving shim: the Task API on the socket {@code start} bound (inherited as fd 3, named by
 * {@code -socket}), events to containerd's {@code TTRPC_ADDRESS}, until Shutdown.
 */
final class ServeCommand {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);
    static final int INHERITED_LISTENER_FD = 3;
    /** Where the launcher's start step saves its stdin (the runtime options Any), in the bundle. */
    static final String RUNTIME_OPTIONS_FILE = "kata-shim-options.pb";

    private ServeCommand() {
    }

    static int run(ShimArgs args) {
        if (args.socket().isEmpty()) {
            System.err.println("containerd-shim-kata-v2: serving needs -socket (the launcher's start step sets it)");
            return 2;
        }
        if (args.debug()) {
            DebugLogging.enable("containerd passed -debug (its own log level is debug)");
        }
        EventPublisher publisher = new EventPublisher(System.getenv("TTRPC_ADDRESS"), args.namespace());
        ShutdownLatch shutdown = new ShutdownLatch();
        ShimMetrics metrics = new ShimMetrics();
        ShimSandboxes sandboxes = new ShimSandboxes(ShimConfig.fromEnvironment(), metrics);
        TaskService tasks = new TaskService(sandboxes, args.namespace(), new TaskEvents(publisher), shutdown::release);
        TtrpcServer server = TtrpcServer.builder()
                .service(tasks.definition())
                // every Task RPC is timed into kata_shim_rpc_durations_histogram_milliseconds{action}
                .observer(call -> metrics.observeShimRpc(TaskActions.of(call.method()), call.durationNanos()))
                .build();
        try {
            server.listenOnInherited(INHERITED_LISTENER_FD, Endpoint.parse(args.socket()));
        } catch (Exception e) {
            log.error("cannot serve on {}: {}", args.socket(), e.getMessage());
            return 1;
        }
        log.info("shim for {} in namespace {} serving on {}", args.id(), args.namespace(), args.socket());
        // The launcher serves only sandboxes (pod members reuse their sandbox's shim): boot ours now.
        sandboxes.prestart(args.id(), savedRuntimeOptions());
        Runtime.getRuntime().addShutdownHook(new Thread(sandboxes::shutdown, "shim-exit"));
        shutdown.await();
        try {
            // let the Shutdown reply go out, then stop
            Thread.sleep(50);
            server.shutdown(Duration.ofSeconds(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        publisher.drainAndClose(Duration.ofSeconds(3));
        log.info("shim for {} exiting", args.id());
        return 0;
    }

    /** The ConfigPath in the runtime options {@code start} saved from its stdin into the bundle. */
    private static java.util.Optional<java.nio.file.Path> savedRuntimeOptions() {
        try {
            return RuntimeOptions.configPathFromFile(java.nio.file.Path.of(RUNTIME_OPTIONS_FILE));
        } catch (dev.katashim.shim.config.ConfigException e) {
            log.warn("{}; using the default configuration search", e.getMessage());
            return java.util.Optional.empty();
        }
    }

    /** Released by the Shutdown RPC once no container remains. */
    private static final class ShutdownLatch {
        private final java.util.concurrent.CountDownLatch latch = new java.util.concurrent.CountDownLatch(1);

        void release() {
            latch.countDown();
        }

        void await() {
            try {
                latch.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
