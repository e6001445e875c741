package dev.katashim.shim.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.protocols.kata.agent.Spec;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * OCI runtime-spec JSON (a bundle's config.json, an exec's process) → Kata's protobuf rendering
 * of it ({@code grpc.Spec}, {@code grpc.Process}). Kata's messages mirror the OCI structs field for
 * field, named in Go style ({@code Process.OOMScoreAdj} for {@code process.oomScoreAdj}), so
 * fields are matched by name ignoring case, walking the schema; the one renamed field is
 * {@code ociVersion} → {@code Version}. Keys the schema lacks are skipped; JSON nulls are absent.
 */
public final class OciJsonToAgentSpec {
    private static final Map<String, String> RENAMED = Map.of("ociversion", "version");

    private OciJsonToAgentSpec() {
    }

    public static Spec spec(JsonNode config) {
        Spec.Builder builder = Spec.newBuilder();
        fill(builder, config);
        return builder.build();
    }

    public static Process process(JsonNode process) {
        Process.Builder builder = Process.newBuilder();
        fill(builder, process);
        return builder.build();
    }

    /** An OCI {@code LinuxResources} object (what Update carries). */
    public static dev.katashim.protocols.kata.agent.LinuxResources resources(JsonNode resources) {
        dev.katashim.protocols.kata.agent.LinuxResources.Builder builder = dev.katashim.protocols.kata.agent.LinuxResources.newBuilder();
        fill(builder, resources);
        return builder.build();
    }

    private static void fill(Message.Builder builder, JsonNode object) {
        if (object == null || !object.isObject()) {
            return;
        }
        Map<String, FieldDescriptor> fields = fieldsByLowerName(builder.getDescriptorForType());
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String key = entry.getKey().toLowerCase(Locale.ROOT);
            FieldDescriptor field = fields.get(RENAMED.getOrDefault(key, key));
            JsonNode value = entry.getValue();
            if (field == null || value == null || value.isNull()) {
                continue;
            }
            if (field.isMapField()) {
                fillMap(builder, field, value);
            } else if (field.isRepeated()) {
                for (JsonNode element : value) {
                    Object converted = convert(builder, field, element);
                    if (converted != null) {
                        builder.addRepeatedField(field, converted);
                    }
                }
            } else {
                Object converted = convert(builder, field, value);
                if (converted != null) {
                    builder.setField(field, converted);
                }
            }
        }
    }

    private static void fillMap(Message.Builder builder, FieldDescriptor field, JsonNode object) {
        Descriptor entryType = field.getMessageType();
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            Message.Builder mapEntry = builder.newBuilderForField(field);
            mapEntry.setField(entryType.findFieldByName("key"), entry.getKey());
            mapEntry.setField(entryType.findFieldByName("value"), entry.getValue().asText());
            builder.addRepeatedField(field, mapEntry.build());
        }
    }

    private static Object convert(Message.Builder parent, FieldDescriptor field, JsonNode value) {
        if (value.isNull()) {
            return null;
        }
        return switch (field.getJavaType()) {
            case MESSAGE -> {
                Message.Builder child = parent.newBuilderForField(field);
                fill(child, value);
                yield child.build();
            }
            case STRING -> value.asText();
            case BOOLEAN -> value.asBoolean();
            case INT -> value.asInt();
            case LONG -> value.isBigInteger() ? value.bigIntegerValue().longValue() : value.asLong();
            case FLOAT -> (float) value.asDouble();
            case DOUBLE -> value.asDouble();
            case BYTE_STRING -> com.google.protobuf.ByteString.copyFromUtf8(value.asText());
            case ENUM -> field.getEnumType().findValueByName(value.asText());
        };
    }

    private static final Map<Descriptor, Map<String, FieldDescriptor>> BY_TYPE = new java.util.concurrent.ConcurrentHashMap<>();

    private static Map<String, FieldDescriptor> fieldsByLowerName(Descriptor type) {
        return BY_TYPE.computeIfAbsent(type, t -> {
            Map<String, FieldDescriptor> map = new HashMap<>();
            for (FieldDescriptor field : t.getFields()) {
                map.put(field.getName().toLowerCase(Locale.ROOT), field);
            }
            return map;
        });
    }
}
