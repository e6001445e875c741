package dev.katashim.agent.guest.oci;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.katashim.protocols.kata.agent.Hook;
import dev.katashim.protocols.kata.agent.Hooks;
import dev.katashim.protocols.kata.agent.Linux;
import dev.katashim.protocols.kata.agent.LinuxBlockIO;
import dev.katashim.protocols.kata.agent.LinuxCPU;
import dev.katashim.protocols.kata.agent.LinuxCapabilities;
import dev.katashim.protocols.kata.agent.LinuxDevice;
import dev.katashim.protocols.kata.agent.LinuxDeviceCgroup;
import dev.katashim.protocols.kata.agent.LinuxHugepageLimit;
import dev.katashim.protocols.kata.agent.LinuxIDMapping;
import dev.katashim.protocols.kata.agent.LinuxInterfacePriority;
import dev.katashim.protocols.kata.agent.LinuxMemory;
import dev.katashim.protocols.kata.agent.LinuxNamespace;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.LinuxSeccomp;
import dev.katashim.protocols.kata.agent.LinuxSeccompArg;
import dev.katashim.protocols.kata.agent.LinuxSyscall;
import dev.katashim.protocols.kata.agent.LinuxThrottleDevice;
import dev.katashim.protocols.kata.agent.LinuxWeightDevice;
import dev.katashim.protocols.kata.agent.Mount;
import dev.katashim.protocols.kata.agent.POSIXRlimit;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.protocols.kata.agent.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Kata's protobuf rendering of the OCI runtime spec ({@code grpc.Spec}) → the OCI runtime-spec
 * JSON that runc reads (config.json, process.json for exec, resources for update).
 * <p>
 * proto3 cannot tell "unset" from zero: a zero or empty field is left out of the JSON, which is
 * what the OCI spec means by an absent optional field (no limit, no override). Device cgroup rules
 * with major or minor ≤ 0 are wildcards, as Kata's runtime encodes them.
 */
public final class RuntimeSpecJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    public static final String DEFAULT_OCI_VERSION = "1.0.2";

    private RuntimeSpecJson() {
    }

    /** The whole config.json for a bundle, with the root at {@code rootfs} and the cgroup at {@code cgroupsPath}. */
    public static ObjectNode config(Spec spec, Path rootfs, String cgroupsPath) {
        ObjectNode config = F.objectNode();
        config.put("ociVersion", spec.getVersion().isEmpty() ? DEFAULT_OCI_VERSION : spec.getVersion());
        config.set("process", process(spec.getProcess()));
        ObjectNode root = config.putObject("root");
        root.put("path", rootfs.toString());
        root.put("readonly", spec.getRoot().getReadonly());
        putIfNotEmpty(config, "hostname", spec.getHostname());
        ArrayNode mounts = config.putArray("mounts");
        for (Mount mount : spec.getMountsList()) {
            ObjectNode m = mounts.addObject();
            m.put("destination", mount.getDestination());
            putIfNotEmpty(m, "type", mount.getType());
            putIfNotEmpty(m, "source", mount.getSource());
            if (mount.getOptionsCount() > 0) {
                strings(m.putArray("options"), mount.getOptionsList());
            }
        }
        if (spec.hasHooks()) {
            config.set("hooks", hooks(spec.getHooks()));
        }
        if (spec.getAnnotationsCount() > 0) {
            ObjectNode annotations = config.putObject("annotations");
            spec.getAnnotationsMap().forEach(annotations::put);
        }
        config.set("linux", linux(spec.getLinux(), cgroupsPath));
        return config;
    }

    /** A process.json (OCI {@code process}), as config.json holds it and {@code runc exec --process} reads it. */
    public static ObjectNode process(Process p) {
        ObjectNode process = F.objectNode();
        process.put("terminal", p.getTerminal());
        if (p.hasConsoleSize() && (p.getConsoleSize().getHeight() > 0 || p.getConsoleSize().getWidth() > 0)) {
            ObjectNode size = process.putObject("consoleSize");
            size.put("height", p.getConsoleSize().getHeight());
            size.put("width", p.getConsoleSize().getWidth());
        }
        ObjectNode user = process.putObject("user");
        user.put("uid", Integer.toUnsignedLong(p.getUser().getUID()));
        user.put("gid", Integer.toUnsignedLong(p.getUser().getGID()));
        if (p.getUser().getAdditionalGidsCount() > 0) {
            ArrayNode gids = user.putArray("additionalGids");
            p.getUser().getAdditionalGidsList().forEach(g -> gids.add(Integer.toUnsignedLong(g)));
        }
        strings(process.putArray("args"), p.getArgsList());
        if (p.getEnvCount() > 0) {
            strings(process.putArray("env"), p.getEnvList());
        }
        process.put("cwd", p.getCwd().isEmpty() ? "/" : p.getCwd());
        if (p.hasCapabilities()) {
            process.set("capabilities", capabilities(p.getCapabilities()));
        }
        if (p.getRlimitsCount() > 0) {
            ArrayNode rlimits = process.putArray("rlimits");
            for (POSIXRlimit limit : p.getRlimitsList()) {
                ObjectNode r = rlimits.addObject();
                r.put("type", limit.getType());
                r.put("hard", unsigned(limit.getHard()));
                r.put("soft", unsigned(limit.getSoft()));
            }
        }
        process.put("noNewPrivileges", p.getNoNewPrivileges());
        putIfNotEmpty(process, "apparmorProfile", p.getApparmorProfile());
        if (p.getOOMScoreAdj() != 0) {
            process.put("oomScoreAdj", p.getOOMScoreAdj());
        }
        putIfNotEmpty(process, "selinuxLabel", p.getSelinuxLabel());
        return process;
    }

    /** OCI {@code linux.resources}, also the document {@code runc update --resources} reads. */
    public static ObjectNode resources(LinuxResources r) {
        ObjectNode resources = F.objectNode();
        if (r.getDevicesCount() > 0) {
            ArrayNode devices = resources.putArray("devices");
            for (LinuxDeviceCgroup d : r.getDevicesList()) {
                ObjectNode device = devices.addObject();
                device.put("allow", d.getAllow());
                device.put("type", d.getType().isEmpty() ? "a" : d.getType());
                if (d.getMajor() > 0) {
                    device.put("major", d.getMajor());
                }
                if (d.getMinor() > 0) {
                    device.put("minor", d.getMinor());
                }
                device.put("access", d.getAccess().isEmpty() ? "rwm" : d.getAccess());
            }
        }
        if (r.hasMemory()) {
            LinuxMemory m = r.getMemory();
            ObjectNode memory = F.objectNode();
            putIfNonZero(memory, "limit", m.getLimit());
            putIfNonZero(memory, "reservation", m.getReservation());
            putIfNonZero(memory, "swap", m.getSwap());
            putIfNonZero(memory, "kernel", m.getKernel());
            putIfNonZero(memory, "kernelTCP", m.getKernelTCP());
            if (m.getSwappiness() != 0) {
                memory.put("swappiness", unsigned(m.getSwappiness()));
            }
            if (m.getDisableOOMKiller()) {
                memory.put("disableOOMKiller", true);
            }
            setIfNotEmpty(resources, "memory", memory);
        }
        if (r.hasCPU()) {
            LinuxCPU c = r.getCPU();
            ObjectNode cpu = F.objectNode();
            if (c.getShares() != 0) {
                cpu.put("shares", unsigned(c.getShares()));
            }
            putIfNonZero(cpu, "quota", c.getQuota());
            if (c.getPeriod() != 0) {
                cpu.put("period", unsigned(c.getPeriod()));
            }
            putIfNonZero(cpu, "realtimeRuntime", c.getRealtimeRuntime());
            if (c.getRealtimePeriod() != 0) {
                cpu.put("realtimePeriod", unsigned(c.getRealtimePeriod()));
            }
            putIfNotEmpty(cpu, "cpus", c.getCpus());
            putIfNotEmpty(cpu, "mems", c.getMems());
            setIfNotEmpty(resources, "cpu", cpu);
        }
        if (r.hasPids() && r.getPids().getLimit() != 0) {
            resources.putObject("pids").put("limit", r.getPids().getLimit());
        }
        if (r.hasBlockIO()) {
            setIfNotEmpty(resources, "blockIO", blockIo(r.getBlockIO()));
        }
        if (r.getHugepageLimitsCount() > 0) {
            ArrayNode limits = resources.putArray("hugepageLimits");
            for (LinuxHugepageLimit limit : r.getHugepageLimitsList()) {
                ObjectNode l = limits.addObject();
                l.put("pageSize", limit.getPagesize());
                l.put("limit", unsigned(limit.getLimit()));
            }
        }
        if (r.hasNetwork()) {
            ObjectNode network = F.objectNode();
            if (r.getNetwork().getClassID() != 0) {
                network.put("classID", Integer.toUnsignedLong(r.getNetwork().getClassID()));
            }
            if (r.getNetwork().getPrioritiesCount() > 0) {
                ArrayNode priorities = network.putArray("priorities");
                for (LinuxInterfacePriority p : r.getNetwork().getPrioritiesList()) {
                    priorities.addObject().put("name", p.getName()).put("priority", Integer.toUnsignedLong(p.getPriority()));
                }
            }
            setIfNotEmpty(resources, "network", network);
        }
        return resources;
    }

    private static ObjectNode linux(Linux l, String cgroupsPath) {
        ObjectNode linux = F.objectNode();
        if (l.getUIDMappingsCount() > 0) {
            idMappings(linux.putArray("uidMappings"), l.getUIDMappingsList());
        }
        if (l.getGIDMappingsCount() > 0) {
            idMappings(linux.putArray("gidMappings"), l.getGIDMappingsList());
        }
        if (l.getSysctlCount() > 0) {
            ObjectNode sysctl = linux.putObject("sysctl");
            l.getSysctlMap().forEach(sysctl::put);
        }
        linux.set("resources", resources(l.getResources()));
        linux.put("cgroupsPath", cgroupsPath);
        ArrayNode namespaces = linux.putArray("namespaces");
        for (LinuxNamespace ns : l.getNamespacesList()) {
            ObjectNode n = namespaces.addObject();
            n.put("type", ns.getType());
            putIfNotEmpty(n, "path", ns.getPath());
        }
        if (l.getDevicesCount() > 0) {
            ArrayNode devices = linux.putArray("devices");
            for (LinuxDevice d : l.getDevicesList()) {
                ObjectNode device = devices.addObject();
                device.put("path", d.getPath());
                device.put("type", d.getType());
                device.put("major", d.getMajor());
                device.put("minor", d.getMinor());
                if (d.getFileMode() != 0) {
                    device.put("fileMode", d.getFileMode());
                }
                device.put("uid", Integer.toUnsignedLong(d.getUID()));
                device.put("gid", Integer.toUnsignedLong(d.getGID()));
            }
        }
        if (l.hasSeccomp() && !l.getSeccomp().getDefaultAction().isEmpty()) {
            linux.set("seccomp", seccomp(l.getSeccomp()));
        }
        putIfNotEmpty(linux, "rootfsPropagation", l.getRootfsPropagation());
        if (l.getMaskedPathsCount() > 0) {
            strings(linux.putArray("maskedPaths"), l.getMaskedPathsList());
        }
        if (l.getReadonlyPathsCount() > 0) {
            strings(linux.putArray("readonlyPaths"), l.getReadonlyPathsList());
        }
        putIfNotEmpty(linux, "mountLabel", l.getMountLabel());
        if (l.hasIntelRdt() && !l.getIntelRdt().getL3CacheSchema().isEmpty()) {
            linux.putObject("intelRdt").put("l3CacheSchema", l.getIntelRdt().getL3CacheSchema());
        }
        return linux;
    }

    private static ObjectNode capabilities(LinuxCapabilities c) {
        ObjectNode caps = F.objectNode();
        strings(caps.putArray("bounding"), c.getBoundingList());
        strings(caps.putArray("effective"), c.getEffectiveList());
        strings(caps.putArray("inheritable"), c.getInheritableList());
        strings(caps.putArray("permitted"), c.getPermittedList());
        strings(caps.putArray("ambient"), c.getAmbientList());
        return caps;
    }

    private static ObjectNode hooks(Hooks h) {
        ObjectNode hooks = F.objectNode();
        Map<String, List<Hook>> byStage = Map.of(
                "prestart", h.getPrestartList(),
                "poststart", h.getPoststartList(),
                "poststop", h.getPoststopList(),
                "createRuntime", h.getCreateRuntimeList(),
                "createContainer", h.getCreateContainerList(),
                "startContainer", h.getStartContainerList());
        byStage.forEach((stage, list) -> {
            if (!list.isEmpty()) {
                ArrayNode array = hooks.putArray(stage);
                for (Hook hook : list) {
                    ObjectNode o = array.addObject();
                    o.put("path", hook.getPath());
                    if (hook.getArgsCount() > 0) {
                        strings(o.putArray("args"), hook.getArgsList());
                    }
                    if (hook.getEnvCount() > 0) {
                        strings(o.putArray("env"), hook.getEnvList());
                    }
                    if (hook.getTimeout() > 0) {
                        o.put("timeout", hook.getTimeout());
                    }
                }
            }
        });
        return hooks;
    }

    private static ObjectNode seccomp(LinuxSeccomp s) {
        ObjectNode seccomp = F.objectNode();
        seccomp.put("defaultAction", s.getDefaultAction());
        if (s.getArchitecturesCount() > 0) {
            strings(seccomp.putArray("architectures"), s.getArchitecturesList());
        }
        if (s.getFlagsCount() > 0) {
            strings(seccomp.putArray("flags"), s.getFlagsList());
        }
        ArrayNode syscalls = seccomp.putArray("syscalls");
        for (LinuxSyscall call : s.getSyscallsList()) {
            ObjectNode o = syscalls.addObject();
            strings(o.putArray("names"), call.getNamesList());
            o.put("action", call.getAction());
            if (call.hasErrnoret()) {
                o.put("errnoRet", Integer.toUnsignedLong(call.getErrnoret()));
            }
            if (call.getArgsCount() > 0) {
                ArrayNode args = o.putArray("args");
                for (LinuxSeccompArg arg : call.getArgsList()) {
                    args.addObject()
                            .put("index", unsigned(arg.getIndex()))
                            .put("value", unsigned(arg.getValue()))
                            .put("valueTwo", unsigned(arg.getValueTwo()))
                            .put("op", arg.getOp());
                }
            }
        }
        return seccomp;
    }

    private static ObjectNode blockIo(LinuxBlockIO b) {
        ObjectNode io = F.objectNode();
        if (b.getWeight() != 0) {
            io.put("weight", b.getWeight());
        }
        if (b.getLeafWeight() != 0) {
            io.put("leafWeight", b.getLeafWeight());
        }
        if (b.getWeightDeviceCount() > 0) {
            ArrayNode devices = io.putArray("weightDevice");
            for (LinuxWeightDevice d : b.getWeightDeviceList()) {
                ObjectNode o = devices.addObject().put("major", d.getMajor()).put("minor", d.getMinor());
                if (d.getWeight() != 0) {
                    o.put("weight", d.getWeight());
                }
                if (d.getLeafWeight() != 0) {
                    o.put("leafWeight", d.getLeafWeight());
                }
            }
        }
        throttle(io, "throttleReadBpsDevice", b.getThrottleReadBpsDeviceList());
        throttle(io, "throttleWriteBpsDevice", b.getThrottleWriteBpsDeviceList());
        throttle(io, "throttleReadIOPSDevice", b.getThrottleReadIOPSDeviceList());
        throttle(io, "throttleWriteIOPSDevice", b.getThrottleWriteIOPSDeviceList());
        return io;
    }

    private static void throttle(ObjectNode io, String name, List<LinuxThrottleDevice> devices) {
        if (!devices.isEmpty()) {
            ArrayNode array = io.putArray(name);
            for (LinuxThrottleDevice d : devices) {
                array.addObject().put("major", d.getMajor()).put("minor", d.getMinor()).put("rate", unsigned(d.getRate()));
            }
        }
    }

    private static void idMappings(ArrayNode array, List<LinuxIDMapping> mappings) {
        for (LinuxIDMapping m : mappings) {
            array.addObject()
                    .put("containerID", Integer.toUnsignedLong(m.getContainerID()))
                    .put("hostID", Integer.toUnsignedLong(m.getHostID()))
                    .put("size", Integer.toUnsignedLong(m.getSize()));
        }
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }

    private static void putIfNotEmpty(ObjectNode node, String field, String value) {
        if (!value.isEmpty()) {
            node.put(field, value);
        }
    }

    private static void putIfNonZero(ObjectNode node, String field, long value) {
        if (value != 0) {
            node.put(field, value);
        }
    }

    private static void setIfNotEmpty(ObjectNode parent, String field, ObjectNode child) {
        if (!child.isEmpty()) {
            parent.set(field, child);
        }
    }

    /** A uint64 as JSON: values above Long.MAX_VALUE stay unsigned. */
    private static java.math.BigInteger unsigned(long value) {
        return new java.math.BigInteger(Long.toUnsignedString(value));
    }
}
