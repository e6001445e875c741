package dev.katashim.shim.io;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ProcessIo against real FIFOs (mkfifo), real files, real logger processes and a real local process standing
 * in for the agent's side. Every test releases what it made, also when it fails (see tearDown).
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProcessIoTest {
    private static final Duration DONE_WITHIN = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private IoContext ctx;
    private final List<ProcessIo> ios = new ArrayList<>();
    private final List<LocalProcessAgentStreams> agents = new ArrayList<>();
    private final List<FifoReader> readers = new ArrayList<>();
    private final List<Throwable> uncaught = new CopyOnWriteArrayList<>();
    private Thread.UncaughtExceptionHandler previousHandler;

    @BeforeEach
    void setUp() {
        ctx = new IoContext("test-ns", "c1").withScratchDir(dir);
        previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> uncaught.add(e));
    }

    @AfterEach
    void tearDown() throws Exception {
        List<Exception> failures = new ArrayList<>();
        // Order matters: the shim's ends first (so readers see EOF), then the processes, then the readers.
        ios.forEach(ProcessIo::close);
        for (AutoCloseable c : Stream.concat(agents.stream(), readers.stream()).toList()) {
            try {
                c.close();
            } catch (Exception e) {
                failures.add(e);
            }
        }
        Thread.setDefaultUncaughtExceptionHandler(previousHandler);
        if (!failures.isEmpty()) {
            throw failures.getFirst();
        }
        assertThat(uncaught).as("exceptions escaping copy threads").isEmpty();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(ioThreads()).isEmpty());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive))
                        .as("processes left behind").isEmpty());
    }

    @Test
    void fifoStdoutAndStderrAreDeliveredInFullBeforeOutputDone() throws Exception {
        byte[] outData = random(1 << 20, 1);
        byte[] errData = random(1 << 20, 2);
        Files.write(dir.resolve("out.bin"), outData);
        Files.write(dir.resolve("err.bin"), errData);
        Path out = fifo("stdout");
        Path err = fifo("stderr");
        LocalProcessAgentStreams agent = sh("cat \"$1\" & cat \"$2\" >&2; wait",
                dir.resolve("out.bin").toString(), dir.resolve("err.bin").toString());

        ProcessIo io = open(new StdioSpec("", out.toString(), err.toString(), false));
        FifoReader outReader = reader(out);
        FifoReader errReader = reader(err);
        AtomicLong outAtDone = new AtomicLong(-1);
        AtomicLong errAtDone = new AtomicLong(-1);
        CompletableFuture<Void> observed = io.outputDone().thenRun(() -> {
            outAtDone.set(outReader.delivered());
            errAtDone.set(errReader.delivered());
        });
        io.start(agent);

        observed.get(DONE_WITHIN.toSeconds(), TimeUnit.SECONDS);
        assertThat(outAtDone.get()).as("stdout bytes in the FIFO when outputDone completed").isEqualTo(1 << 20);
        assertThat(errAtDone.get()).as("stderr bytes in the FIFO when outputDone completed").isEqualTo(1 << 20);
        // and the shim's ends are closed: containerd sees EOF after exactly this data
        assertThat(outReader.all().get(5, TimeUnit.SECONDS)).isEqualTo(outData);
        assertThat(errReader.all().get(5, TimeUnit.SECONDS)).isEqualTo(errData);
    }

    @Test
    void stdinFromAFifoReachesTheProcess() throws Exception {
        Path in = fifo("stdin");
        Path out = fifo("stdout");
        LocalProcessAgentStreams agent = agent("/bin/cat");
        ProcessIo io = open(new StdioSpec(in.toString(), out.toString(), "", false));
        FifoReader outReader = reader(out);
        io.start(agent);

        try (FileOutputStream writer = new FileOutputStream(in.toFile())) {
            writer.write("hello\n".getBytes(UTF_8));
            await().atMost(Duration.ofSeconds(10)).until(() -> outReader.text().equals("hello\n"));
        }
    }

    @Test
    void endOfTheStdinFifoKeepsAgentStdinOpenUntilCloseStdin() throws Exception {
        Path in = fifo("stdin");
        Path out = fifo("stdout");
        LocalProcessAgentStreams agent = agent("/bin/cat");
        ProcessIo io = open(new StdioSpec(in.toString(), out.toString(), "", false));
        FifoReader outReader = reader(out); // containerd opens its ends before Start
        io.start(agent);

        writeAndClose(in, "first\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> outReader.text().equals("first\n"));
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> agent.process().isAlive());

        writeAndClose(in, "second\n"); // a client may open the FIFO again (attach)
        await().atMost(Duration.ofSeconds(10)).until(() -> outReader.text().equals("first\nsecond\n"));
        assertThat(agent.process().isAlive()).isTrue();

        io.closeStdin();
        assertThat(agent.process().waitFor(10, TimeUnit.SECONDS)).as("cat ends at EOF").isTrue();
        io.outputDone().get(DONE_WITHIN.toSeconds(), TimeUnit.SECONDS);
        assertThat(outReader.all().get(5, TimeUnit.SECONDS)).asString(UTF_8).isEqualTo("first\nsecond\n");
        io.closeStdin(); // idempotent
    }

    @Test
    void closeStdinForwardsWhatWasWrittenBeforeItWhileTheWriterStaysOpen() throws Exception {
        // The process reads nothing for a second, so at CloseIO part of the data still sits in the FIFO.
        byte[] data = random(150 * 1024, 3);
        Path in = fifo("stdin");
        Path out = fifo("stdout");
        LocalProcessAgentStreams agent = sh("sleep 1; exec cat");
        ProcessIo io = open(new StdioSpec(in.toString(), out.toString(), "", false));
        FifoReader outReader = reader(out); // containerd opens its ends before Start
        io.start(agent);

        try (FileOutputStream writer = new FileOutputStream(in.toFile())) {
            within(Duration.ofSeconds(10), () -> writer.write(data));
            // ctr calls CloseIO before it closes its end of the FIFO
            within(Duration.ofSeconds(15), io::closeStdin);
        }
        assertThat(outReader.all().get(DONE_WITHIN.toSeconds(), TimeUnit.SECONDS)).isEqualTo(data);
        assertThat(agent.process().waitFor(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void closeStdinRightAfterAWriteNeverLosesIt() throws Exception {
        for (int i = 0; i < 20; i++) {
            Path in = fifo("stdin-" + i);
            Path out = fifo("stdout-" + i);
            LocalProcessAgentStreams agent = agent("/bin/cat");
            ProcessIo io = open(new StdioSpec(in.toString(), out.toString(), "", false));
            FifoReader outReader = reader(out); // containerd opens its ends before Start
            io.start(agent);
            String line = "line-" + i + "\n";
            try (FileOutputStream writer = new FileOutputStream(in.toFile())) {
                writer.write(line.getBytes(UTF_8));
                within(Duration.ofSeconds(10), io::closeStdin);
            }
            assertThat(outReader.all().get(10, TimeUnit.SECONDS)).asString(UTF_8).as("round %d", i).isEqualTo(line);
            io.close();
            agent.close();
        }
    }

    @Test
    void withoutStdinTheProcessReadsEndOfFileAtOnce() throws Exception {
        Path out = fifo("stdout");
        LocalProcessAgentStreams agent = sh("cat; echo done");
        ProcessIo io = open(new StdioSpec("", out.toString(), "", false));
        FifoReader outReader = reader(out); // containerd opens its ends before Start
        io.start(agent);

        io.outputDone().get(DONE_WITHIN.toSeconds(), TimeUnit.SECONDS);
        assertThat(outReader.all().get(5, TimeUnit.SECONDS)).asString(UTF_8).isEqualTo("done\n");
        io.closeStdin(); // nothing left to close, no error
    }

    @Test
    void aTerminalIgnoresStderr() throws Exception {
        Path out = fifo("stdout");
        Path err = fifo("stderr");
        LocalProcessAgentStreams agent = sh("echo out; echo err >&2");
        ProcessIo io = open(new StdioSpec("", out.toString(), err.toString(), true));
        assertThat(openFiles()).contains(out.toString()).doesNotContain(err.toString());
        FifoReader outReader = reader(out);
        io.start(agent);

        io.outputDone().get(DONE_WITHIN.toSeconds(), TimeUnit.SECONDS);
        assertThat(outReader.all().get(5, TimeUnit.SECONDS)).asString(UTF_8).isEqualTo("out\n");
        assertThat(agent.stderrReads()).as("agent stderr reads").isZero();
    }

    @Test
    void logFileGetsStdoutAndStderrAndIsAppendedTo() throws Exception {
        Path log = dir.resolve("logs/nested/ctr.log");
        String uri = "file://" + log;
        LocalProcessAgentStreams agent = sh("for i in $(seq 1 200); do echo out-$i; echo err-$i >&2; done");
        ProcessIo io = start(new StdioSpec("", uri, uri, false), agent);
        io.outputDone().get(DONE_WITHIN.toSeconds(), TimeUnit.SECONDS);

        List<String> expected = new ArrayList<>();
        IntStream.rangeClosed(1, 200).forEach(i -> expected.addAll(List.of("out-" + i, "err-" + i)));
        assertThat(Files.readAllLines(log)).containsExactlyInAnyOrderElementsOf(expected);
        int umask = Integer.parseInt(run("/bin/sh", "-c", "umask").strip(), 8);
        assertThat(mode(log)).isEqualTo(0640 & ~umask);
        assertThat(mode(log.getParent())).isEqualTo(0755 & ~umask);
        assertThat(mode(dir.resolve("logs"))).isEqualTo(0755 & ~umask);

        // a terminal: stderr is not read at all; the file is appended to
        LocalProcessAgentStreams second = sh("echo again; echo not-logged >&2");
        ProcessIo io2 = start(new StdioSpec("", uri, uri, true), second);
        io2.outputDone().get(DONE_WITHIN.toSeconds(), TimeUnit.SECONDS);
        expected.add("again");
        assertThat(Files.readAllLines(log)).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void binaryLoggerGetsStdoutOnFd3StderrOnFd4ItsArgsAndEnvAndIsStoppedAfterTheOutput() throws Exception {
        Path logger = script("logger.sh", """
                #!/bin/sh
                dir=$2
                printf '[%s]\\n' "$@" > "$dir/args"
                tr '\\0' '\\n' < /proc/$$/environ > "$dir/env"
                echo $$ > "$dir/pid"
                sp=
                trap 'kill $sp 2>/dev/null; echo term > "$dir/term"; exit 0' TERM
                cat <&3 > "$dir/stdout" 3<&- 4<&- 5>&- &
                c1=$!
                cat <&4 > "$dir/stderr" 3<&- 4<&- 5>&- &
                c2=$!
                exec 3<&- 4<&-
                printf R >&5
                exec 5>&-
                wait $c1 $c2
                sleep 30 &
                sp=$!
                wait $sp
                """);
        Path out = Files.createDirectory(dir.resolve("logger-out"));
        String uri = "binary://" + logger + "?dir=" + out + "&flag&x=a+b%21";
        LocalProcessAgentStreams agent = sh("echo to-stdout; echo to-stderr >&2");

        ProcessIo io = open(new StdioSpec("", uri, uri, false));
        try (Stream<Path> scratch = Files.list(dir)) {
            assertThat(scratch.map(p -> p.getFileName().toString())).as("logger FIFOs removed once it is ready")
                    .noneMatch(name -> name.startsWith("kata-logger-"));
        }
        long pid = Long.parseLong(Files.readString(out.resolve("pid")).strip());
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
        io.start(agent);
        io.outputDone().get(DONE_WITHIN.toSeconds(), TimeUnit.SECONDS);

        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                .as("logger stopped before outputDone").isFalse();
        assertThat(Files.readString(out.resolve("term"))).as("SIGTERM handled").isEqualTo("term\n");
        // the logger's cat children outlive it briefly and may not even have created their files yet
        await().atMost(Duration.ofSeconds(5)).ignoreException(NoSuchFileException.class).untilAsserted(() -> {
            assertThat(Files.readString(out.resolve("stdout"))).isEqualTo("to-stdout\n");
            assertThat(Files.readString(out.resolve("stderr"))).isEqualTo("to-stderr\n");
        });
        assertThat(Files.readString(out.resolve("args")))
                .isEqualTo("[dir]\n[" + out + "]\n[flag]\n[]\n[x]\n[a b!]\n");
        assertThat(Files.readAllLines(out.resolve("env")))
                .containsExactlyInAnyOrder("CONTAINER_ID=c1", "CONTAINER_NAMESPACE=test-ns");
    }

    @Test
    void binaryLoggerIgnoringSigtermIsKilledAfterTheGrace() throws Exception {
        Path logger = script("stubborn.sh", """
                #!/bin/sh
                echo $$ > "$2/pid"
                trap '' TERM
                printf R >&5
                exec 5>&-
                exec sleep 60
                """);
        ctx = ctx.withLoggerTimeouts(Duration.ofSeconds(5), Duration.ofMillis(300));
        String uri = "binary://" + logger + "?dir=" + dir;
        LocalProcessAgentStreams agent = agent("/bin/sleep", "60"); // output still running at close()
        ProcessIo io = start(new StdioSpec("", uri, uri, false), agent);
        long pid = Long.parseLong(Files.readString(dir.resolve("pid")).strip());

        long started = System.nanoTime();
        io.close();
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(took).isBetween(Duration.ofMillis(300), Duration.ofSeconds(4));
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(io.outputDone()).isDone();
    }

    @Test
    void binaryLoggerThatNeverGetsReadyFailsTheOpenAndLeavesNothing() throws Exception {
        Path logger = script("silent.sh", """
                #!/bin/sh
                echo $$ > "$2/pid"
                exec sleep 60
                """);
        ctx = ctx.withLoggerTimeouts(Duration.ofMillis(500), Duration.ofSeconds(1));
        String uri = "binary://" + logger + "?dir=" + dir;

        assertThatThrownBy(() -> open(new StdioSpec("", uri, uri, false)))
                .isInstanceOf(IOException.class)
                .hasMessage("binary logger " + logger + " did not signal readiness on fd 5 within PT0.5S");
        long pid = Long.parseLong(Files.readString(dir.resolve("pid")).strip());
        await().atMost(Duration.ofSeconds(5))
                .until(() -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        assertThat(scratchLeftovers()).isEmpty();
    }

    @Test
    void binaryLoggerMustBeAnExecutable() throws Exception {
        Path notExecutable = Files.writeString(dir.resolve("logger.txt"), "#!/bin/sh\n");
        for (Path p : List.of(dir.resolve("missing"), notExecutable)) {
            String uri = "binary://" + p;
            assertThatThrownBy(() -> open(new StdioSpec("", uri, uri, false)))
                    .isInstanceOf(IOException.class)
                    .hasMessage("failed to start binary logger " + p + ": not an executable file");
        }
        assertThat(scratchLeftovers()).isEmpty();
    }

    @Test
    void unknownSchemeIsRejected() throws Exception {
        Path in = fifo("stdin");
        assertThatThrownBy(() -> open(new StdioSpec(in.toString(), "syslog://host/x", "", false)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown STDIO scheme syslog");
        assertThat(openFiles()).doesNotContain(in.toString());
    }

    @Test
    void aMissingOrNonFifoPathIsAClearErrorAndLeavesNothingOpen() throws Exception {
        Path in = fifo("stdin");
        Path missing = dir.resolve("missing");
        Path regular = Files.writeString(dir.resolve("regular"), "");

        assertThatThrownBy(() -> open(new StdioSpec(in.toString(), missing.toString(), "", false)))
                .isInstanceOf(IOException.class)
                .hasMessage("stdout FIFO " + missing + " does not exist");
        assertThatThrownBy(() -> open(new StdioSpec(in.toString(), "", regular.toString(), false)))
                .isInstanceOf(IOException.class)
                .hasMessage("stderr " + regular + " is not a FIFO");
        assertThat(Files.exists(missing)).as("never created").isFalse();
        assertThat(openFiles()).doesNotContain(in.toString());
    }

    @Test
    void fifosNobodyOpensNeitherBlockTheStartNorHangTheClose() throws Exception {
        Path in = fifo("stdin");
        Path out = fifo("stdout");
        Path err = fifo("stderr");
        LocalProcessAgentStreams agent = sh("head -c 1048576 /dev/zero && exec sleep 60");
        ProcessIo io = within(Duration.ofSeconds(5),
                () -> start(new StdioSpec(in.toString(), out.toString(), err.toString(), false), agent));
        // stdout blocked in a write to the full FIFO, stdin in a read of the empty one, stderr in the agent
        await().atMost(Duration.ofSeconds(10)).until(() -> blockedIn("kata-io-c1-stdout", "write"));
        await().atMost(Duration.ofSeconds(10)).until(() -> blockedIn("kata-io-c1-stdin", "read"));

        long started = System.nanoTime();
        io.close();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
        assertThat(ioThreads()).as("copy threads ended by close()").isEmpty();
        assertThat(openFiles()).doesNotContain(in.toString(), out.toString(), err.toString());
        assertThat(io.outputDone()).isDone();
    }

    @Test
    void anAgentThatGoesAwayEndsTheCopyAndOutputDoneStillCompletes() throws Exception {
        Path in = fifo("stdin");
        Path out = fifo("stdout");
        Path err = fifo("stderr");
        LocalProcessAgentStreams agent = agent("/bin/sleep", "60");
        ProcessIo io = start(new StdioSpec(in.toString(), out.toString(), err.toString(), false), agent);

        agent.disconnect();

        io.outputDone().get(DONE_WITHIN.toSeconds(), TimeUnit.SECONDS);
        assertThatThrownBy(io::closeStdin).isInstanceOf(IOException.class).hasMessage("agent connection closed");
        io.close();
        assertThatThrownBy(io::closeStdin).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void manyOpenCloseCyclesLeakNoThreadsFdsProcessesOrFiles() throws Exception {
        Path logger = script("quiet-logger.sh", """
                #!/bin/sh
                cat <&3 >/dev/null 3<&- 4<&- 5>&- &
                cat <&4 >/dev/null 3<&- 4<&- 5>&- &
                exec 3<&- 4<&-
                printf R >&5
                exec 5>&-
                wait
                """);
        Path log = dir.resolve("cycle.log");
        cycles(3, 3, 2, logger, log); // warm up: classes loaded, JDK helpers started
        int fdsBefore = openFiles().size();

        cycles(100, 30, 15, logger, log);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(ioThreads()).isEmpty();
            assertThat(openFiles().size()).as("open fds").isLessThanOrEqualTo(fdsBefore + 2);
            assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)).isEmpty();
        });
        assertThat(scratchLeftovers()).isEmpty();
        assertThat(Files.readAllLines(log)).hasSize(2 * (3 + 30));
    }

    private void cycles(int fifoRounds, int fileRounds, int loggerRounds, Path logger, Path log) throws Exception {
        Path fifos = Files.createTempDirectory(dir, "cycles");
        Path in = fifos.resolve("in");
        Path out = fifos.resolve("out");
        Path err = fifos.resolve("err");
        run("mkfifo", in.toString(), out.toString(), err.toString());
        List<StdioSpec> specs = new ArrayList<>();
        for (int i = 0; i < fifoRounds; i++) {
            specs.add(new StdioSpec(in.toString(), out.toString(), err.toString(), false));
        }
        for (int i = 0; i < fileRounds; i++) {
            specs.add(new StdioSpec(in.toString(), "file://" + log, "file://" + log, false));
        }
        for (int i = 0; i < loggerRounds; i++) {
            specs.add(new StdioSpec(in.toString(), "binary://" + logger, "binary://" + logger, false));
        }
        for (StdioSpec spec : specs) {
            try (LocalProcessAgentStreams agent = LocalProcessAgentStreams.start("/bin/sh", "-c",
                    "cat; echo bye; echo bye >&2");
                    ProcessIo io = ProcessIo.start(spec, agent, ctx)) {
                io.closeStdin();
                io.outputDone().get(DONE_WITHIN.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }

    // ---- helpers ----

    private ProcessIo open(StdioSpec spec) throws IOException {
        ProcessIo io = ProcessIo.open(spec, ctx);
        ios.add(io);
        return io;
    }

    private ProcessIo start(StdioSpec spec, AgentStreams agent) throws IOException {
        ProcessIo io = ProcessIo.start(spec, agent, ctx);
        ios.add(io);
        return io;
    }

    private LocalProcessAgentStreams agent(String... command) throws IOException {
        LocalProcessAgentStreams agent = LocalProcessAgentStreams.start(command);
        agents.add(agent);
        return agent;
    }

    private LocalProcessAgentStreams sh(String script, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", script, "sh"));
        command.addAll(Arrays.asList(args));
        return agent(command.toArray(String[]::new));
    }

    private FifoReader reader(Path fifo) throws IOException {
        FifoReader reader = FifoReader.open(fifo);
        readers.add(reader);
        return reader;
    }

    private Path fifo(String name) throws Exception {
        Path path = dir.resolve(name);
        run("mkfifo", path.toString());
        return path;
    }

    private Path script(String name, String text) throws IOException {
        Path path = Files.writeString(dir.resolve(name), text);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
        return path;
    }

    private List<String> scratchLeftovers() throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("kata-logger-")).toList();
        }
    }

    private static void writeAndClose(Path fifo, String text) throws IOException {
        try (FileOutputStream writer = new FileOutputStream(fifo.toFile())) {
            writer.write(text.getBytes(UTF_8));
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    private static int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode") & 0777;
    }

    /** What this JVM's fds point at. */
    private static List<String> openFiles() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException gone) {
                    return "";
                }
            }).toList();
        }
    }

    private static List<String> ioThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName)
                .filter(name -> name.startsWith("kata-io-") || name.startsWith("kata-logger-"))
                .toList();
    }

    private static boolean blockedIn(String threadName, String nativeCall) {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getName().equals(threadName))
                .anyMatch(e -> e.getValue().length > 0 && e.getValue()[0].isNativeMethod()
                        && e.getValue()[0].getMethodName().startsWith(nativeCall));
    }

    private static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8);
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("%s: %s", List.of(command), output).isZero();
        return output;
    }

    @FunctionalInterface
    private interface Action<T> {
        T run() throws Exception;
    }

    @FunctionalInterface
    private interface VoidAction {
        void run() throws Exception;
    }

    /** Runs on its own thread and fails the test if it does not finish in time (a hang would block forever). */
    private static <T> T within(Duration limit, Action<T> action) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("test-within").start(() -> {
            try {
                result.complete(action.run());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return result.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }

    private static void within(Duration limit, VoidAction action) throws Exception {
        within(limit, () -> {
            action.run();
            return null;
        });
    }
}
