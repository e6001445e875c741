package dev.katashim.shim.cli;

/**
 * This shim's name and version, as {@code -v} prints them and {@code -info} reports them. The
 * version is the jar's (its manifest's Implementation-Version, which the build writes); classes
 * run outside a jar report "unknown".
 */
record ShimVersion(String runtimeName, String version) {
    /** The runtime name containerd is configured with, whose binary name this launcher has. */
    static final String RUNTIME_NAME = "io.containerd.kata.v2";

    static ShimVersion current() {
        String version = ShimVersion.class.getPackage().getImplementationVersion();
        return new ShimVersion(RUNTIME_NAME, version == null ? "unknown" : version);
    }

    /** What Go shims print for {@code -v}: the binary, then indented facts. */
    String banner() {
        return "containerd-shim-kata-v2:\n  Runtime:  " + runtimeName + "\n  Version:  " + version
                + "\n  Java version: " + Runtime.version() + "\n\n";
    }
}
