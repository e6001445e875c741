package dev.katashim.vmm;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A helper started through {@link DiesWithParent} dies when its JVM is killed, even one started from a thread that ended. */
class DiesWithParentTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    /** The "shim": starts {@code sleep} from a short-lived virtual thread, prints its pid, then waits to be killed. */
    public static final class Parent {
        public static void main(String[] args) throws Exception {
            Process[] child = new Process[1];
            Thread starter = Thread.ofVirtual().start(() -> {
                try {
                    child[0] = DiesWithParent.start(new ProcessBuilder("sleep", "300"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            starter.join();
            System.out.println(child[0].pid());
            System.out.flush();
            Thread.sleep(Duration.ofMinutes(5));
        }
    }

    @Test
    void theChildGetsSigkillWhenItsJvmIsKilled() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process parent = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"), Parent.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        long childPid;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8))) {
            childPid = Long.parseLong(out.readLine().trim());
            assertThat(Files.readString(Path.of("/proc/" + childPid + "/cmdline"))).startsWith("sleep");
            // a second later the child is still there: the starter thread's end did not kill it
            Thread.sleep(1000);
            assertThat(ProcessHandle.of(childPid)).isPresent();
        } finally {
            parent.destroyForcibly();
            parent.waitFor(30, TimeUnit.SECONDS);
        }
        await().atMost(DEADLINE).until(() -> !running(childPid));
    }

    @Test
    void setprivIsPrefixed() {
        assertThat(DiesWithParent.prefixed(List.of("/usr/bin/qemu-system-x86_64", "-name", "x")))
                .containsExactly("/usr/bin/setpriv", "--pdeathsig", "KILL", "--", "/usr/bin/qemu-system-x86_64", "-name", "x");
    }

    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (Exception e) {
            return false;
        }
    }
}
