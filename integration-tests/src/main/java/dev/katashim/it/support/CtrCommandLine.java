package dev.katashim.it.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** Builds {@code ctr} invocations aimed at one private containerd and namespace. */
record CtrCommandLine(Path grpcSocket, String namespace, Path fifoDir) {

    private static final Set<String> TASK_COMMANDS = Set.of("task", "tasks", "t");
    private static final Set<String> TASK_SUBCOMMANDS_MAKING_FIFOS = Set.of("start", "exec");

    /**
     * {@code ctr --address <grpc> --namespace <ns> args...}. Commands that create stdio FIFOs get
     * {@code --fifo-dir} inside our temp dir unless the caller chose one: ctr's default is the shared
     * /run/containerd/fifo, and it never removes the FIFOs of a detached task.
     */
    List<String> of(String... args) {
        List<String> command = new ArrayList<>(List.of("ctr", "--address", grpcSocket.toString(),
                "--namespace", namespace));
        List<String> rest = Arrays.asList(args);
        int subcommandLength = createsFifos(rest);
        if (subcommandLength > 0 && !rest.contains("--fifo-dir")) {
            command.addAll(rest.subList(0, subcommandLength));
            command.addAll(List.of("--fifo-dir", fifoDir.toString()));
            command.addAll(rest.subList(subcommandLength, rest.size()));
        } else {
            command.addAll(rest);
        }
        return command;
    }

    /** How many leading words name a FIFO-creating subcommand (run; task start; task exec), else 0. */
    private static int createsFifos(List<String> args) {
        if (!args.isEmpty() && args.getFirst().equals("run")) {
            return 1;
        }
        if (args.size() >= 2 && TASK_COMMANDS.contains(args.get(0))
                && TASK_SUBCOMMANDS_MAKING_FIFOS.contains(args.get(1))) {
            return 2;
        }
        return 0;
    }
}
