package dev.katashim.shim.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.oci.GuestSpec;
import dev.katashim.shim.oci.OciJsonToAgentSpec;
import dev.katashim.ttrpc.server.CallContext;
import dev.katashim.ttrpc.server.MethodDefinition;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bundle's config.json as containerd passes it (written by a user's tool, or by CRI from a pod
 * spec): a realistic spec mutated node by node (values of the wrong type, NUL bytes, huge numbers,
 * deep nesting, missing parts, odd CRI annotations) or byte by byte. Create either accepts it, or
 * answers a status naming the problem — config.json itself when it cannot be read — never UNKNOWN
 * (an exception nobody meant); the spec the agent would get is built, and made fit for a guest,
 * without an exception.
 */
class ConfigJsonProperties {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BASE = """
            {"ociVersion":"1.0.2","hostname":"pod1",
             "process":{"terminal":false,"user":{"uid":0,"gid":0,"additionalGids":[1,2]},"args":["/bin/sh","-c","sleep 60"],
               "env":["PATH=/usr/bin:/bin","A=b"],"cwd":"/","capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"]},
               "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true,"oomScoreAdj":100},
             "root":{"path":"rootfs","readonly":true},
             "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
               {"destination":"/dev/shm","type":"bind","source":"/run/shm-of-pod","options":["rbind","ro"]},
               {"destination":"/data","type":"bind","source":"/var/lib/data","options":["rbind"]}],
             "hooks":{"prestart":[{"path":"/usr/bin/true","args":["true"],"timeout":5}]},
             "annotations":{"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-id":"pod1"},
             "linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/proc/1/ns/net"},{"type":"mount"}],
               "resources":{"memory":{"limit":536870912,"swap":-1},"cpu":{"shares":1024,"quota":100000,"period":100000,"cpus":"0-1"},
                 "pids":{"limit":100},"devices":[{"allow":false,"access":"rwm"}]},
               "cgroupsPath":"/kubepods/pod1/c1","seccomp":{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]},
               "maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],"sysctl":{"net.ipv4.ip_forward":"1"}}}
            """;
    private static final List<String> ODD_TEXT = List.of("", "\u0000", "/a\u0000b", "..", "relative/path", "/", "container",
            "sandbox", "podsandbox", "x".repeat(10_000), "-1", "é");

    private static Path dir;

    @BeforeContainer
    static void makeDir() throws IOException {
        dir = Files.createTempDirectory("kata-bundles");
    }

    @AfterContainer
    static void removeDir() throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Property(shrinking = ShrinkingMode.OFF)
    void anyConfigJsonIsAcceptedOrRefusedWithAStatusNamingTheProblem(@ForAll long seed) throws Exception {
        Random random = new Random(seed);
        byte[] configJson = random.nextInt(4) == 0 ? bytes(random)
                : JSON.writeValueAsString(mutated(random)).replace("\"" + DEEP + "\"", "[".repeat(5000) + "]".repeat(5000))
                        .getBytes(StandardCharsets.UTF_8);
        Path bundle = Files.createDirectories(dir.resolve(Long.toHexString(seed)));
        Files.write(bundle.resolve("config.json"), configJson);
        String shown = new String(configJson, StandardCharsets.UTF_8);
        shown = shown.length() > 2000 ? shown.substring(0, 2000) + "…" : shown;

        FakeSandbox sandbox = new FakeSandbox();
        ServiceDefinition service = new TaskService(sandbox, "kt-fuzz", new TaskEvents((topic, event) -> { }), () -> { }).definition();
        try {
            create(service, bundle);
        } catch (TtrpcException e) {
            assertThat(e.code()).as("status for config.json %s: %s", shown, e.getMessage()).isNotEqualTo(StatusCode.UNKNOWN);
            assertThat(e.getMessage()).isNotBlank();
            if (e.getMessage().contains("cannot parse") || e.getMessage().contains("cannot read")) {
                assertThat(e.getMessage()).contains(bundle.resolve("config.json").toString());
            }
        } catch (RuntimeException e) {
            throw new AssertionError("Create threw for config.json " + shown, e);
        } finally {
            sandbox.destroy();
        }

        // what the agent would be sent: built from whatever JSON parses, never an exception
        JsonNode tree;
        try {
            tree = Bundle.read(bundle).config();
        } catch (TtrpcException unreadable) {
            return;
        }
        try {
            Spec spec = OciJsonToAgentSpec.spec(tree);
            GuestSpec.constrain(spec, random.nextBoolean());
        } catch (TtrpcException meant) {
            assertThat(meant.code()).isNotEqualTo(StatusCode.UNKNOWN);
        } catch (RuntimeException e) {
            throw new AssertionError("the agent's spec could not be built from " + shown, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static void create(ServiceDefinition service, Path bundle) throws Exception {
        MethodDefinition<CreateTaskRequest, ?> create = (MethodDefinition<CreateTaskRequest, ?>) service.methods().get("Create");
        create.handler().handle(CreateTaskRequest.newBuilder().setId("pod1").setBundle(bundle.toString()).build(),
                new CallContext(TaskService.NAME, "Create", Map.of(), 0));
    }

    private static JsonNode mutated(Random random) throws IOException {
        JsonNode root = JSON.readTree(BASE);
        for (int i = 0, n = 1 + random.nextInt(5); i < n; i++) {
            List<JsonNode> containers = new ArrayList<>();
            collect(root, containers);
            JsonNode target = containers.get(random.nextInt(containers.size()));
            if (target instanceof ObjectNode object && !object.isEmpty()) {
                List<String> keys = new ArrayList<>();
                object.fieldNames().forEachRemaining(keys::add);
                String key = keys.get(random.nextInt(keys.size()));
                if (random.nextInt(4) == 0) {
                    object.remove(key);
                } else {
                    object.set(key, value(random));
                }
            } else if (target instanceof ArrayNode array && !array.isEmpty()) {
                array.set(random.nextInt(array.size()), value(random));
            }
        }
        return root;
    }

    private static void collect(JsonNode node, List<JsonNode> into) {
        if (node.isContainerNode()) {
            into.add(node);
            for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
                collect(it.next(), into);
            }
        }
    }

    private static JsonNode value(Random random) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (random.nextInt(9)) {
            case 0 -> f.textNode(ODD_TEXT.get(random.nextInt(ODD_TEXT.size())));
            case 1 -> f.numberNode(new long[]{0, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40}[random.nextInt(5)]);
            case 2 -> f.numberNode(new java.math.BigInteger("123456789012345678901234567890"));
            case 3 -> f.numberNode(random.nextBoolean() ? 1e300 : -0.5);
            case 4 -> f.booleanNode(random.nextBoolean());
            case 5 -> f.nullNode();
            case 6 -> f.arrayNode().add(f.textNode("a")).add(1).addNull();
            case 7 -> f.objectNode().put("path", ODD_TEXT.get(random.nextInt(ODD_TEXT.size()))).put("type", "bind");
            default -> random.nextInt(3) == 0 ? f.textNode(DEEP) : nested(50);
        };
    }

    /** Arrays in arrays; this marker becomes 5000 of them once written, deeper than Jackson reads or writes (1000). */
    private static final String DEEP = "@DEEP@";

    /** Arrays in arrays, {@code depth} deep. */
    private static JsonNode nested(int depth) {
        ArrayNode top = JsonNodeFactory.instance.arrayNode();
        ArrayNode at = top;
        for (int i = 0; i < depth; i++) {
            at = at.addArray();
        }
        return top;
    }

    private static byte[] bytes(Random random) {
        byte[] json = BASE.getBytes(StandardCharsets.UTF_8);
        for (int i = 0, n = 1 + random.nextInt(6); i < n; i++) {
            json[random.nextInt(json.length)] = (byte) random.nextInt(256);
        }
        return random.nextBoolean() ? json : Arrays.copyOf(json, random.nextInt(json.length));
    }
}
