package dev.katashim.shim.resource;

import dev.katashim.protocols.kata.agent.Mount;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Found while fuzzing config.json (a NUL byte is valid JSON): a mount whose source or destination
 * Java cannot make a path of was an InvalidPathException, so Create failed UNKNOWN. Now it is
 * INVALID_ARGUMENT naming the mount, and nothing is shared.
 */
class MountPathsTest {
    @TempDir
    Path dir;

    private static void assertNamed(ThrowingRunnable call, String fragment) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(TtrpcException.class, e -> {
            assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains(fragment).contains("is not a valid path");
        });
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void aBindMountWithANulInItsSourceOrDestinationIsRefusedNamingIt() {
        SharedVolumes volumes = new SharedVolumes(dir, Path.of("/run/kata-containers/shared/containers"));
        Mount badSource = Mount.newBuilder().setType("bind").setSource("/var/a\0b").setDestination("/data").build();
        assertNamed(() -> volumes.share("c1", List.of(badSource), new PodShm(0)), "bind mount source '/var/a\\x00b'");
        Mount badDestination = Mount.newBuilder().setType("bind").setSource(dir.toString()).setDestination("/da\0ta").build();
        assertNamed(() -> volumes.share("c1", List.of(badDestination), new PodShm(0)), "bind mount destination '/da\\x00ta'");
        assertThat(dir.toFile().list()).as("nothing shared").isEmpty();
    }

    @Test
    void aShmMountWithANulInItsSourceIsRefusedNamingIt() {
        Mount shm = Mount.newBuilder().setType("bind").setSource("/run/s\0hm").setDestination(PodShm.DESTINATION).build();
        assertNamed(() -> PodShm.of(List.of(shm)), "the /dev/shm mount's source");
    }
}
