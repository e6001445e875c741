package dev.katashim.vmm;

/**
 * How a VMM process ended. Java reports a child killed by signal N as exit value 128 + N (and the
 * VMM itself never exits with such a code), so {@link #of(int)} reads a signal out of it.
 */
public sealed interface VmmExit {
    /** The exit value as {@link Process#exitValue()} gives it. */
    int status();

    record Exited(int code) implements VmmExit {
        @Override
        public int status() {
            return code;
        }

        @Override
        public String toString() {
            return "exited with status " + code;
        }
    }

    record Killed(Signal signal) implements VmmExit {
        @Override
        public int status() {
            return 128 + signal.number();
        }

        @Override
        public String toString() {
            return "killed by " + signal;
        }
    }

    static VmmExit of(int status) {
        return status > 128 && status <= 128 + 64 ? new Killed(new Signal(status - 128)) : new Exited(status);
    }
}
