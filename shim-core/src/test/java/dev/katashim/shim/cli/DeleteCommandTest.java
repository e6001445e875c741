package dev.katashim.shim.cli;

import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.shim.sandbox.SandboxDirectory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code delete} removes a dead shim's sandbox directory, found from the bundle's annotations:
 * an annotation that walks out of the sandbox root must not make it remove another directory.
 */
class DeleteCommandTest {
    @TempDir
    Path bundles;
    private Path victim;
    /** The parts of the sandbox root this test made: a path walks out of it only if it exists, as on a node. */
    private final java.util.List<Path> made = new java.util.ArrayList<>();

    @BeforeEach
    void aDirectoryOutsideTheSandboxRoot() throws Exception {
        victim = Files.createDirectories(Path.of("/tmp", "kt-victim-" + UUID.randomUUID().toString().substring(0, 8)));
        Files.writeString(victim.resolve("precious"), "keep me");
        for (Path p = SandboxDirectory.root().toAbsolutePath(); !Files.exists(p); p = p.getParent()) {
            made.addFirst(p);
        }
        for (Path p : made) {
            Files.createDirectory(p);
        }
    }

    @AfterEach
    void removeIt() throws Exception {
        try {
            for (Path p : made.reversed()) {
                Files.deleteIfExists(p); // empty: this test put nothing there
            }
        } finally {
            if (Files.exists(victim)) { // gone only if delete walked out of the root: the failure this test is for
                try (Stream<Path> walk = Files.walk(victim)) {
                    walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private DeleteResponse delete(String id, String sandboxIdAnnotation) throws Exception {
        Path bundle = Files.createDirectories(bundles.resolve("b"));
        Files.writeString(bundle.resolve("config.json"), """
                {"process":{"args":["/bin/true"]},"annotations":{"io.kubernetes.cri.container-type":"container",
                 "io.kubernetes.cri.sandbox-id":"%s"}}""".formatted(sandboxIdAnnotation));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = DeleteCommand.run(ShimArgs.parse(new String[]{"-namespace", "kt", "-id", id, "-bundle", bundle.toString(), "delete"}),
                new PrintStream(out, true));
        assertThat(status).isZero();
        return DeleteResponse.parseFrom(out.toByteArray());
    }

    @Test
    void aSandboxIdAnnotationWithDotDotRemovesNothingAndDeleteStillAnswers() throws Exception {
        String walkOut = SandboxDirectory.root().toAbsolutePath().relativize(victim).toString(); // ../../../tmp/kt-victim-...
        assertThat(walkOut).startsWith("..");
        DeleteResponse response = delete("c1", walkOut);
        assertThat(response.getExitStatus()).isEqualTo(137);
        assertThat(victim.resolve("precious")).hasContent("keep me");
    }

    @Test
    void anIdWithDotDotRemovesNothingAndDeleteStillAnswers() throws Exception {
        String walkOut = SandboxDirectory.root().toAbsolutePath().relativize(victim).toString();
        Path bundle = Files.createDirectories(bundles.resolve("plain"));
        Files.writeString(bundle.resolve("config.json"), "{\"process\":{\"args\":[\"/bin/true\"]}}");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = DeleteCommand.run(ShimArgs.parse(new String[]{"-namespace", "kt", "-id", walkOut, "-bundle", bundle.toString(), "delete"}),
                new PrintStream(out, true));
        assertThat(status).isZero();
        assertThat(DeleteResponse.parseFrom(out.toByteArray()).getExitStatus()).isEqualTo(137);
        assertThat(victim.resolve("precious")).hasContent("keep me");
    }
}
