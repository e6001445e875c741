package dev.katashim.shim.cli;

import dev.katashim.shim.config.RuntimeOptions;
import dev.katashim.shim.config.StartInput;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.oci.Identifiers;
import dev.katashim.shim.resource.cgroup.PodCgroupPath;
import dev.katashim.shim.events.EventPublisher;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.shim.sandbox.ShimConfig;
import dev.katashim.shim.sandbox.ShimSandboxes;
import dev.katashim.shim.task.SandboxService;
import dev.katashim.shim.task.TaskActions;
import dev.katashim.shim.task.TaskService;
import dev.katashim.ttrpc.server.TtrpcServer;
import dev.katashim.ttrpc.transport.Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The serving shim: the Task API (v2, and v3 for containerd 2.x) and the Sandbox API on the socket
 * {@code start} bound (inherited as fd 3, named by {@code -socket}), events to containerd's
 * {@code TTRPC_ADDRESS}, until Shutdown (or ShutdownSandbox).
 */
final class ServeCommand {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);
    static final int INHERITED_LISTENER_FD = 3;
    /** Where the launcher's start step saves its stdin (the runtime options, or BootstrapParams), in the bundle. */
    static final String RUNTIME_OPTIONS_FILE = "kata-shim-options.pb";

    private ServeCommand() {
    }

    static int run(ShimArgs args) {
        if (args.socket().isEmpty()) {
            System.err.println("containerd-shim-kata-v2: serving needs -socket (the launcher's start step sets it)");
            return 2;
        }
        if (!Identifiers.isValid(args.id())) {
            // containerd checks ids too; the sandbox directory and socket paths are built from this one
            System.err.println("containerd-shim-kata-v2: invalid -id '" + args.id() + "': not a containerd identifier");
            return 2;
        }
        StartInput startInput = savedStartInput(args);
        ShimLogLevel.apply(System.getenv("KATA_SHIM_LOG_LEVEL"), args.debug(), startInput.logLevel());
        java.util.Optional<java.nio.file.Path> configPath = RuntimeOptions.configPath(startInput);
        EventPublisher publisher = new EventPublisher(System.getenv("TTRPC_ADDRESS"), args.namespace());
        ShutdownLatch shutdown = new ShutdownLatch();
        ShimMetrics metrics = new ShimMetrics();
        ShimSandboxes sandboxes = new ShimSandboxes(ShimConfig.fromEnvironment(), metrics);
        TaskService tasks = new TaskService(sandboxes, args.namespace(), new TaskEvents(publisher), shutdown::release);
        SandboxService sandboxApi = new SandboxService(sandboxes, args.id(), configPath, tasks, shutdown::release);
        TtrpcServer server = TtrpcServer.builder()
                .service(tasks.definition(TaskService.NAME))
                .service(tasks.definition(TaskService.NAME_V3))
                .service(sandboxApi.definition())
                // every Task RPC (v2 or v3) is timed into kata_shim_rpc_durations_histogram_milliseconds{action}
                .observer(call -> metrics.observeShimRpc(TaskActions.of(call.service(), call.method()), call.durationNanos()))
                .build();
        // The launcher serves only sandboxes (pod members reuse their sandbox's shim): boot ours now,
        // and before serving: a Create served first would find no early boot and boot a second VM.
        sandboxes.prestart(args.id(), configPath, podCgroupOfBundle());
        Runtime.getRuntime().addShutdownHook(new Thread(sandboxes::shutdown, "shim-exit"));
        try {
            server.listenOnInherited(INHERITED_LISTENER_FD, Endpoint.parse(args.socket()));
        } catch (Exception e) {
            log.error("cannot serve on {}: {}", args.socket(), e.getMessage());
            return 1;
        }
        log.info("shim for {} in namespace {} serving on {}", args.id(), args.namespace(), args.socket());
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

    /** The pod cgroup a CRI sandbox's config.json (in the bundle, our working directory) names; none without a readable one. */
    private static java.util.Optional<String> podCgroupOfBundle() {
        try {
            return PodCgroupPath.of(Bundle.read(java.nio.file.Path.of("").toAbsolutePath()).config());
        } catch (RuntimeException noBundle) {
            return java.util.Optional.empty();
        }
    }

    /** What {@code start} saved from its stdin into the bundle (the launcher already refused garbage). */
    private static StartInput savedStartInput(ShimArgs args) {
        try {
            return StartInput.read(java.nio.file.Path.of(RUNTIME_OPTIONS_FILE), args.id(), args.namespace());
        } catch (dev.katashim.shim.config.ConfigException e) {
            log.warn("{}; using the default configuration search", e.getMessage());
            return new StartInput.Nothing();
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
