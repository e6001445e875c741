package dev.katashim.agent.guest.guest;

import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.protocols.kata.agent.AgentDetails;
import dev.katashim.protocols.kata.agent.GuestDetailsRequest;
import dev.katashim.protocols.kata.agent.GuestDetailsResponse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * GetGuestDetails: the memory block size (hex in sysfs) and whether memory can be hot-added by
 * probe, as the shim asks before hotplugging memory, and what this agent is.
 */
public final class GuestDetails {
    static final Path BLOCK_SIZE = Path.of("/sys/devices/system/memory/block_size_bytes");
    static final Path PROBE = Path.of("/sys/devices/system/memory/probe");

    private final String version;
    private final List<String> storageHandlers;

    public GuestDetails(String version, List<String> storageHandlers) {
        this.version = version;
        this.storageHandlers = List.copyOf(storageHandlers);
    }

    public GuestDetailsResponse answer(GuestDetailsRequest request) {
        GuestDetailsResponse.Builder response = GuestDetailsResponse.newBuilder();
        if (request.getMemBlockSize()) {
            try {
                String hex = Files.readString(BLOCK_SIZE).strip();
                response.setMemBlockSizeBytes(Long.parseUnsignedLong(hex, 16));
            } catch (NoSuchFileException e) {
                // no memory hotplug in this kernel: size 0, as upstream
            } catch (IOException | NumberFormatException e) {
                throw AgentStatus.internal("cannot read the memory block size from " + BLOCK_SIZE + ": " + e.getMessage());
            }
        }
        if (request.getMemHotplugProbe()) {
            response.setSupportMemHotplugProbe(Files.exists(PROBE));
        }
        response.setAgentDetails(AgentDetails.newBuilder()
                .setVersion(version)
                .setInitDaemon(ProcessHandle.current().pid() == 1)
                .addAllStorageHandlers(storageHandlers)
                .setSupportsSeccomp(seccompAvailable()));
        return response.build();
    }

    private static boolean seccompAvailable() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().anyMatch(l -> l.startsWith("Seccomp:"));
        } catch (IOException e) {
            return false;
        }
    }
}
