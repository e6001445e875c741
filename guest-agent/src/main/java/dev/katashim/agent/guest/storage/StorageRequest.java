package dev.katashim.agent.guest.storage;

import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.protocols.kata.agent.Storage;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * One {@link Storage} of a CreateSandbox or CreateContainer request, checked: a driver this agent
 * handles, the fields it needs, a mount point below {@code /run/kata-containers}, options split
 * into what mount(8) gets and what the agent itself applies ({@code fsgid=}, and {@code mode=}
 * for a local directory).
 *
 * @param guestMountPoint the mount point as sent (the storage's name in messages and its key)
 * @param mountPoint      where it is in this agent's file system ({@link GuestPaths})
 * @param source          the source (a guest path resolved too)
 * @param mountOptions    the options for mount(8)
 * @param fsGroup         the group to own the mount point (setgid), if any
 * @param mode            the permissions of a local directory, if given
 */
public record StorageRequest(StorageDriver driver, String guestMountPoint, Path mountPoint, String source, String fstype,
                             List<String> mountOptions, OptionalInt fsGroup, OptionalInt mode, boolean shared) {

    /** The tag of the shared directory that the guest's /init mounts before the agent starts. */
    public static final String PREMOUNTED_SHARE = "kataShared";

    public StorageRequest {
        mountOptions = List.copyOf(mountOptions);
    }

    public static StorageRequest of(Storage storage, GuestPaths paths) {
        String name = describe(storage);
        if (storage.getDriver().isEmpty()) {
            throw AgentStatus.invalid(name + " has no driver");
        }
        StorageDriver driver = StorageDriver.named(storage.getDriver()).orElseThrow(() -> {
            if (StorageDriver.NOT_IMPLEMENTED.contains(storage.getDriver())) {
                return new TtrpcException(StatusCode.UNIMPLEMENTED, name + ": driver " + AgentStatus.quote(storage.getDriver())
                        + " is not implemented by this agent");
            }
            return AgentStatus.invalid(name + ": unknown driver " + AgentStatus.quote(storage.getDriver())
                    + " (known: ephemeral, local, virtio-fs, 9p, watchable-bind)");
        });
        Path guestMountPoint = mountPoint(storage, name);
        List<String> mountOptions = new ArrayList<>();
        Integer fsGroup = null;
        Integer mode = null;
        for (String option : options(storage)) {
            if (option.startsWith("fsgid=")) {
                fsGroup = number(option, 10, name);
            } else if (driver == StorageDriver.LOCAL && option.startsWith("mode=")) {
                mode = number(option, 8, name);
            } else {
                mountOptions.add(option);
            }
        }
        String fstype = storage.getFstype();
        String source = storage.getSource();
        switch (driver) {
            case EPHEMERAL -> {
                if (fstype.equals("hugetlbfs")) {
                    throw new TtrpcException(StatusCode.UNIMPLEMENTED, name + ": hugetlbfs ephemeral storage is not implemented by this agent");
                }
                if (!fstype.equals("tmpfs")) {
                    throw AgentStatus.invalid(name + ": an ephemeral storage is a tmpfs, got fstype " + AgentStatus.quote(fstype));
                }
                requireSource(source, name);
            }
            case VIRTIO_FS, NINE_P -> {
                requireSource(source, name);
                if (fstype.isEmpty()) {
                    fstype = driver == StorageDriver.NINE_P ? "9p" : "virtiofs";
                }
            }
            case WATCHABLE_BIND -> {
                requireSource(source, name);
                Path guestSource = Path.of(source).normalize();
                if (!source.startsWith("/") || !guestSource.toString().equals(source)) {
                    throw AgentStatus.invalid(name + ": the source of a bind must be an absolute, normalised path, got " + AgentStatus.quote(source));
                }
                source = paths.resolve(guestSource).toString();
                fstype = "bind";
            }
            case LOCAL -> {
                if (!mountOptions.isEmpty()) {
                    throw AgentStatus.invalid(name + ": a local storage is a directory and takes only mode= and fsgid=, got " + mountOptions);
                }
                source = "";
                fstype = "";
            }
        }
        return new StorageRequest(driver, storage.getMountPoint(), paths.resolve(guestMountPoint), source, fstype, mountOptions,
                fsGroup == null ? OptionalInt.empty() : OptionalInt.of(fsGroup),
                mode == null ? OptionalInt.empty() : OptionalInt.of(mode), storage.getShared());
    }

    /** Whether another request for the same mount point means the same storage. */
    public boolean sameAs(StorageRequest other) {
        return driver == other.driver && source.equals(other.source) && fstype.equals(other.fstype)
                && mountOptions.equals(other.mountOptions);
    }

    public String describe() {
        return "storage " + AgentStatus.quote(guestMountPoint) + " (driver " + driver.wireName() + ")";
    }

    private static String describe(Storage storage) {
        return "storage " + AgentStatus.quote(storage.getMountPoint()) + " (driver " + AgentStatus.quote(storage.getDriver())
                + ", source " + AgentStatus.quote(storage.getSource()) + ")";
    }

    private static Path mountPoint(Storage storage, String name) {
        String given = storage.getMountPoint();
        if (given.isEmpty()) {
            throw AgentStatus.invalid(name + " has no mount_point");
        }
        Path path = Path.of(given).normalize();
        if (!given.startsWith("/") || !path.toString().equals(given)) {
            throw AgentStatus.invalid(name + ": the mount_point must be an absolute, normalised path");
        }
        if (!GuestPaths.inKataDir(path)) {
            throw AgentStatus.invalid(name + ": the mount_point must be below " + GuestPaths.KATA);
        }
        return path;
    }

    /** Options as a list, each entry possibly holding several, comma-separated. */
    private static List<String> options(Storage storage) {
        List<String> options = new ArrayList<>();
        for (String entry : storage.getOptionsList()) {
            for (String option : entry.split(",")) {
                if (!option.isBlank()) {
                    options.add(option.strip());
                }
            }
        }
        return options;
    }

    private static void requireSource(String source, String name) {
        if (source.isEmpty()) {
            throw AgentStatus.invalid(name + " has no source");
        }
    }

    private static int number(String option, int radix, String name) {
        String value = option.substring(option.indexOf('=') + 1);
        try {
            int n = Integer.parseInt(value, radix);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw AgentStatus.invalid(name + ": option " + AgentStatus.quote(option) + " needs a "
                    + (radix == 8 ? "octal mode" : "group id"));
        }
    }
}
