package dev.katashim.shim.cli;

import java.io.PrintStream;

/**
 * {@code containerd-shim-kata-v2}'s Java entry point. The launcher script does {@code start} itself
 * (it must answer within milliseconds and hand the bound socket over); this serves
 * ({@code no command}), cleans up after a dead shim ({@code delete}), and answers {@code -info}
 * (containerd 2.x asks every runtime for its RuntimeInfo) and {@code -v}.
 */
public final class ShimMain {
    private ShimMain() {
    }

    public static void main(String[] argv) {
        ShimArgs args;
        try {
            args = ShimArgs.parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("containerd-shim-kata-v2: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (args.version()) {
            System.out.print(ShimVersion.current().banner());
            System.exit(0);
            return;
        }
        if (args.info()) {
            System.exit(InfoCommand.run(System.in, System.out, System.err));
            return;
        }
        int status = switch (args.command()) {
            case "" -> ServeCommand.run(args);
            case "delete" -> DeleteCommand.run(args, System.out);
            default -> usage(args.command(), System.err);
        };
        System.exit(status);
    }

    private static int usage(String command, PrintStream err) {
        err.println("containerd-shim-kata-v2: unknown command '" + command + "' (expected start, delete, or none to serve)");
        return 2;
    }
}
