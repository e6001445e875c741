package dev.katashim.ttrpc.testing;

/**
 * How big the fuzz tests' inputs are: {@code -Dfuzz.frames} frames at most per try (default 40, a
 * few seconds in CI). With {@code -Dfuzz.tries} (the tries of every property) it is what
 * scripts/bench-fuzz raises for its million frames.
 */
public final class FuzzScale {
    private FuzzScale() {
    }

    public static int framesPerTry() {
        return Integer.getInteger("fuzz.frames", 40);
    }
}
