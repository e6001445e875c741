package dev.katashim.agent.guest.storage;

import java.nio.file.Path;

/**
 * Where the guest's {@code /run/kata-containers} is. In a VM it is that directory. In host mode
 * (no VM) the agent must not touch the host's own: the same paths, as the shim sends them, are
 * then taken under the agent's state dir, {@code shared/containers} being the shared directory.
 * Paths elsewhere are left as they are.
 *
 * @param kataDir   what {@code /run/kata-containers} is
 * @param sharedDir what {@code /run/kata-containers/shared/containers} is
 */
public record GuestPaths(Path kataDir, Path sharedDir) {
    public static final Path KATA = Path.of("/run/kata-containers");
    public static final Path SHARED = KATA.resolve("shared/containers");

    public static GuestPaths vm(Path sharedDir) {
        return new GuestPaths(KATA, sharedDir);
    }

    public static GuestPaths hostMode(Path stateDir, Path sharedDir) {
        return new GuestPaths(stateDir.resolve("kata-containers"), sharedDir);
    }

    /** Whether {@code guestPath} (absolute, normalised) is below {@code /run/kata-containers}. */
    public static boolean inKataDir(Path guestPath) {
        return guestPath.startsWith(KATA) && !guestPath.equals(KATA);
    }

    /** The path in this agent's file system for a guest path. */
    public Path resolve(Path guestPath) {
        if (guestPath.startsWith(SHARED)) {
            return sharedDir.resolve(SHARED.relativize(guestPath).toString());
        }
        if (guestPath.startsWith(KATA)) {
            return kataDir.resolve(KATA.relativize(guestPath).toString());
        }
        return guestPath;
    }

    public String resolve(String guestPath) {
        return guestPath.startsWith("/") ? resolve(Path.of(guestPath)).toString() : guestPath;
    }
}
