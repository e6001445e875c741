package dev.katashim.shim.sandbox;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class KeptConsoleLogsTest {
    @Test
    void aCopyNamedAfterTheSandboxOutlivesTheOriginal(@TempDir Path dir) throws Exception {
        Path console = Files.writeString(Files.createDirectories(dir.resolve("sbs/sb1")).resolve("console.log"), "booting\n");
        KeptConsoleLogs kept = new KeptConsoleLogs(dir.resolve("kept"));
        Path copy = kept.keep("sb1", console).orElseThrow();
        Files.delete(console);
        assertThat(copy.getParent()).isEqualTo(dir.resolve("kept"));
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("kept"))))
                .as("other users cannot read the guest's words").isEqualTo("rwx------");
        assertThat(copy.getFileName().toString()).startsWith("sb1-").endsWith("-console.log");
        assertThat(copy).content().isEqualTo("booting\n");
        assertThat(kept.keep("sb1", console)).as("no console log, nothing kept").isEmpty();
    }

    @Test
    void onlyTheNewestAreKept(@TempDir Path dir) throws Exception {
        Path keptDir = Files.createDirectories(dir.resolve("kept"));
        for (int i = 0; i < KeptConsoleLogs.KEEP + 5; i++) {
            Path old = Files.writeString(keptDir.resolve("old" + i + "-console.log"), "x");
            Files.setLastModifiedTime(old, FileTime.fromMillis(1_000_000L * (i + 1)));
        }
        Path console = Files.writeString(dir.resolve("console.log"), "new\n");
        Path copy = new KeptConsoleLogs(keptDir).keep("sb2", console).orElseThrow();
        try (Stream<Path> files = Files.list(keptDir)) {
            assertThat(files.toList()).hasSize(KeptConsoleLogs.KEEP).contains(copy).doesNotContain(keptDir.resolve("old0-console.log"));
        }
    }

    @Test
    void theTailIsTheLastLines(@TempDir Path dir) throws Exception {
        Path console = Files.writeString(dir.resolve("console.log"), "one\r\ntwo\n\nthree\nfour\n");
        assertThat(ConsoleTail.lastLines(console, 2)).containsExactly("three", "four");
        assertThat(ConsoleTail.lastLines(dir.resolve("missing"), 2)).isEmpty();
    }
}
