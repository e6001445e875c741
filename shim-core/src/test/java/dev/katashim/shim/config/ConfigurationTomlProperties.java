package dev.katashim.shim.config;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kata's configuration.toml as a user may get it wrong: this repository's own configurations
 * mutated line by line (lines dropped, repeated, cut, values replaced by values of other types,
 * odd escapes, tables and arrays where a scalar belongs) or byte by byte, and plain junk. The
 * loader either reads it or throws a {@link ConfigException} whose message names the file: that
 * message is what Create's error status carries to the user (SandboxBoot), never a stack trace.
 */
class ConfigurationTomlProperties {
    private static final List<String> VALUES = List.of("\"\"", "\"x\"", "\"\\u0000\"", "\"a\\u0000b\"", "\"\\uD800\"", "0", "-1",
            "99999999999999999999999", "1e400", "nan", "inf", "-0.0", "true", "[]", "[1, \"a\"]", "[[[[[]]]]]", "{}", "{ a = 1 }",
            "1979-05-27T07:32:00Z", "\"\"\"multi\nline\"\"\"", "'literal'", "\"\\x\"", "0x7fffffffffffffff", "1_000", "\"relative/path\"",
            "\"" + "k".repeat(5000) + "\"");
    private static final List<String> LINES = List.of("[hypervisor.qemu]", "[hypervisor.none]", "[hypervisor.acrn]", "[hypervisor]",
            "[[hypervisor.qemu]]", "[agent.kata]", "[runtime]", "[", "]", "=", "a.b.c = 1", "\"quoted key\" = 1", "hypervisor = 1",
            "metrics_refresh_period = 0", "default_vcpus = 0", "shared_fs = \"nfs\"", "kernel = \"\"");

    private static List<String> seeds;
    private static Path dir;

    @BeforeContainer
    static void readSeeds() throws IOException {
        seeds = List.of(Files.readString(Path.of("../config/configuration-qemu.toml.in")).replace("@REPO@", "/opt/kata"),
                Files.readString(Path.of("../config/configuration-none.toml")));
        dir = Files.createTempDirectory("kata-toml");
    }

    @AfterContainer
    static void removeDir() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }

    @Property(shrinking = ShrinkingMode.OFF)
    void anyConfigurationIsReadOrRefusedNamingTheFile(@ForAll long seed) throws IOException {
        Random random = new Random(seed);
        byte[] toml = switch (random.nextInt(6)) {
            case 0 -> bytes(random);
            case 1 -> junk(random);
            default -> lines(random).getBytes(StandardCharsets.UTF_8);
        };
        Path file = Files.write(dir.resolve("configuration-" + Long.toHexString(seed) + ".toml"), toml);
        try {
            KataConfig config = KataConfigLoader.load(file);
            assertThat(config.source()).isEqualTo(file);
        } catch (ConfigException e) {
            assertThat(e.getMessage()).as("what the user is told").contains(file.toString());
        } catch (RuntimeException | StackOverflowError e) {
            throw new AssertionError("configuration.toml\n" + new String(toml, StandardCharsets.UTF_8) + "\nmade the loader throw", e);
        } finally {
            Files.delete(file);
        }
    }

    private static String lines(Random random) {
        List<String> lines = new ArrayList<>(Arrays.asList(seeds.get(random.nextInt(seeds.size())).split("\n", -1)));
        for (int i = 0, n = 1 + random.nextInt(6); i < n; i++) {
            int at = random.nextInt(lines.size());
            String line = lines.get(at);
            switch (random.nextInt(6)) {
                case 0 -> lines.remove(at);
                case 1 -> lines.add(at, line);
                case 2 -> lines.set(at, line.substring(0, random.nextInt(line.length() + 1)));
                case 3 -> lines.add(at, LINES.get(random.nextInt(LINES.size())));
                default -> {
                    int eq = line.indexOf('=');
                    if (eq > 0) {
                        lines.set(at, line.substring(0, eq + 1) + " " + VALUES.get(random.nextInt(VALUES.size())));
                    }
                }
            }
        }
        return String.join("\n", lines);
    }

    private static byte[] bytes(Random random) {
        byte[] toml = seeds.get(random.nextInt(seeds.size())).getBytes(StandardCharsets.UTF_8);
        for (int i = 0, n = 1 + random.nextInt(8); i < n; i++) {
            toml[random.nextInt(toml.length)] = (byte) random.nextInt(256);
        }
        return random.nextBoolean() ? toml : Arrays.copyOf(toml, random.nextInt(toml.length));
    }

    private static byte[] junk(Random random) {
        byte[] junk = new byte[random.nextInt(512)];
        random.nextBytes(junk);
        return junk;
    }
}
