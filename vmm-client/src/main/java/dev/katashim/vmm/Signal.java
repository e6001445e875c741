package dev.katashim.vmm;

/** A Linux signal (x86-64 numbering), by number, for telling how a process ended. */
public record Signal(int number) {
    public static final Signal SIGABRT = new Signal(6);
    public static final Signal SIGBUS = new Signal(7);
    public static final Signal SIGKILL = new Signal(9);
    public static final Signal SIGSEGV = new Signal(11);
    public static final Signal SIGTERM = new Signal(15);
    public static final Signal SIGSYS = new Signal(31);

    public Signal {
        if (number < 1 || number > 64) {
            throw new IllegalArgumentException("not a signal number: " + number);
        }
    }

    public String name() {
        return switch (number) {
            case 1 -> "SIGHUP";
            case 2 -> "SIGINT";
            case 3 -> "SIGQUIT";
            case 4 -> "SIGILL";
            case 6 -> "SIGABRT";
            case 7 -> "SIGBUS";
            case 8 -> "SIGFPE";
            case 9 -> "SIGKILL";
            case 11 -> "SIGSEGV";
            case 13 -> "SIGPIPE";
            case 15 -> "SIGTERM";
            case 31 -> "SIGSYS";
            default -> "signal " + number;
        };
    }

    @Override
    public String toString() {
        return name();
    }
}
