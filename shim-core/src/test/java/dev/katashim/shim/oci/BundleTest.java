package dev.katashim.shim.oci;

import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThatCode;

/** Bundle paths and root filesystems from containerd, checked against traversal on real directories and symlinks. */
class BundleTest {
    @TempDir
    Path dir;

    private Path bundle(String name, String rootPath) throws Exception {
        Path bundle = Files.createDirectories(dir.resolve(name));
        Files.writeString(bundle.resolve("config.json"), "{\"process\":{\"args\":[\"/bin/true\"]},\"root\":{\"path\":\"" + rootPath + "\"}}");
        return bundle;
    }

    private static void refused(Runnable check, String message) {
        assertThatThrownBy(check::run).isInstanceOfSatisfying(TtrpcException.class, e -> {
            assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains(message);
        });
    }

    @Test
    void aBundlePathWithDotDotOrRelativeIsRefusedBeforeAnythingIsRead() throws Exception {
        Path real = bundle("b1", "rootfs");
        refused(() -> Bundle.open(dir.resolve("x/../b1").toString()), "invalid bundle path '" + dir + "/x/../b1': must be absolute, without '.' or '..'");
        refused(() -> Bundle.open(dir + "/./b1"), "without '.' or '..' components");
        refused(() -> Bundle.open("b1"), "invalid bundle path 'b1'");
        refused(() -> Bundle.open(dir + "/b\u00001"), "invalid bundle path");
        assertThat(Bundle.open(real.toString()).path()).isEqualTo(real);
    }

    @Test
    void aRelativeRootInsideTheBundlePasses() throws Exception {
        Path bundle = bundle("ok", "rootfs");
        Files.createDirectories(bundle.resolve("rootfs"));
        assertThatCode(() -> Bundle.open(bundle.toString()).checkRoot(false)).doesNotThrowAnyException();
        assertThatCode(() -> Bundle.open(bundle.toString()).checkRoot(true)).doesNotThrowAnyException();
    }

    @Test
    void aRootfsThatIsASymlinkOutOfTheBundleIsRefused() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("host-etc"));
        Path bundle = bundle("evil", "rootfs");
        Files.createSymbolicLink(bundle.resolve("rootfs"), outside);
        // no snapshot mounts: the directory itself would be the container's root (shared with the guest)
        refused(() -> Bundle.open(bundle.toString()).checkRoot(false),
                "root.path 'rootfs' resolves to " + outside + ", outside the bundle " + bundle + " (a symlink): refused");
        // snapshot mounts: mount(8) would follow the link and mount over the host directory
        refused(() -> Bundle.open(bundle.toString()).checkRoot(true), "rootfs " + bundle.resolve("rootfs") + " is a symlink (to " + outside + ")");
    }

    @Test
    void aRelativeRootWithDotDotIsRefused() throws Exception {
        Files.createDirectories(dir.resolve("elsewhere"));
        Path bundle = bundle("dots", "../elsewhere");
        refused(() -> Bundle.open(bundle.toString()).checkRoot(false), "root.path '../elsewhere' is " + dir.resolve("elsewhere") + ", outside the bundle");
    }

    @Test
    void anAbsoluteRootIsTheClientsChoiceButMustBeADirectory() throws Exception {
        Path rootfs = Files.createDirectories(dir.resolve("chosen"));
        assertThatCode(() -> Bundle.open(bundle("abs", rootfs.toString()).toString()).checkRoot(false)).doesNotThrowAnyException();
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Path withFile = bundle("absfile", file.toString());
        refused(() -> Bundle.open(withFile.toString()).checkRoot(false), "is not a directory");
    }

    @Test
    void mountsNeedTheBundlesRootfsDirectory() throws Exception {
        Path bundle = bundle("nodir", "rootfs");
        refused(() -> Bundle.open(bundle.toString()).checkRoot(true), "rootfs " + bundle.resolve("rootfs") + " is not a directory of the bundle");
    }

    private void assertUnparsable(String configJson, String... fragments) throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("unparsable"));
        Files.writeString(bundle.resolve("config.json"), configJson);
        assertThatThrownBy(() -> Bundle.read(bundle)).isInstanceOfSatisfying(TtrpcException.class, e -> {
            assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("cannot parse " + bundle.resolve("config.json")).contains(fragments);
        });
    }

    /** Found by ConfigJsonProperties: nesting beyond Jackson's limit has no location, and was a NullPointerException. */
    @Test
    void nestingBeyondTheParsersLimitIsNamed() throws Exception {
        assertUnparsable("{\"process\":" + "[".repeat(5000) + "]".repeat(5000) + "}", "nesting depth");
    }

    @Test
    void aSyntaxErrorIsNamedWithItsLine() throws Exception {
        assertUnparsable("{\n\"process\": {,}\n}", "at line 2");
    }
}
