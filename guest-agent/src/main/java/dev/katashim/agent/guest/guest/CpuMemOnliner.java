package dev.katashim.agent.guest.guest;

import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.protocols.kata.agent.OnlineCPUMemRequest;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * OnlineCPUMem inside a VM: brings hot-added CPUs and memory blocks online through sysfs.
 * (The no-VM mode refuses the call before it gets here: it would change the host.)
 */
public final class CpuMemOnliner {
    private final Path sysfs;

    public CpuMemOnliner(Path sysfs) {
        this.sysfs = sysfs;
    }

    public void online(OnlineCPUMemRequest request) {
        int cpus = onlineAll(sysfs.resolve("devices/system/cpu"), "cpu[0-9]*", "online", "1");
        if (!request.getCpuOnly()) {
            onlineAll(sysfs.resolve("devices/system/memory"), "memory[0-9]*", "state", "online");
        }
        if (request.getNbCpus() > 0 && onlineCount() < request.getNbCpus()) {
            throw AgentStatus.precondition("only " + onlineCount() + " CPUs are online, " + request.getNbCpus()
                    + " were expected (" + cpus + " brought online now)");
        }
    }

    private int onlineCount() {
        try {
            String online = Files.readString(sysfs.resolve("devices/system/cpu/online")).strip();
            int count = 0;
            for (String range : online.split(",")) {
                String[] bounds = range.split("-");
                count += bounds.length == 2 ? Integer.parseInt(bounds[1]) - Integer.parseInt(bounds[0]) + 1 : 1;
            }
            return count;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private static int onlineAll(Path dir, String glob, String file, String value) {
        int changed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, glob)) {
            for (Path entry : entries) {
                Path control = entry.resolve(file);
                if (!Files.isWritable(control)) {
                    continue;
                }
                String current = Files.readString(control).strip();
                if (current.equals("0") || current.equals("offline")) {
                    Files.writeString(control, value);
                    changed++;
                }
            }
        } catch (IOException e) {
            throw AgentStatus.internal("cannot online " + glob + " under " + dir + ": " + e.getMessage());
        }
        return changed;
    }
}
