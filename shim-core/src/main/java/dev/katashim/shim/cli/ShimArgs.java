package dev.katashim.shim.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The command line containerd gives a shim (Go {@code flag} syntax: single dash, value as the next
 * argument or after {@code =}): {@code -namespace -address -publish-binary -id -bundle -debug -socket},
 * the bool flags {@code -info} and {@code -v}/{@code -version} (each answers and exits, as Go shims do),
 * then an optional command ({@code start}, {@code delete}); none means "serve".
 */
public record ShimArgs(String namespace, String address, String publishBinary, String id, String bundle,
                       boolean debug, String socket, String command, boolean info, boolean version) {

    public static ShimArgs parse(String[] args) {
        String namespace = "", address = "", publishBinary = "", id = "", bundle = "", socket = "";
        boolean debug = false, info = false, version = false;
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                rest.add(arg);
                continue;
            }
            String name = arg.replaceFirst("^--?", "");
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (name.equals("debug") || name.equals("info") || name.equals("v") || name.equals("version")) {
                boolean on = value == null || Boolean.parseBoolean(value);
                switch (name) {
                    case "debug" -> debug = on;
                    case "info" -> info = on;
                    default -> version = on;
                }
                continue;
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("flag needs an argument: -" + name);
                }
                value = args[++i];
            }
            switch (name) {
                case "namespace" -> namespace = value;
                case "address" -> address = value;
                case "publish-binary" -> publishBinary = value;
                case "id" -> id = value;
                case "bundle" -> bundle = value;
                case "socket" -> socket = value;
                default -> throw new IllegalArgumentException("flag provided but not defined: -" + name);
            }
        }
        if (rest.size() > 1) {
            throw new IllegalArgumentException("more than one command: " + rest);
        }
        return new ShimArgs(namespace, address, publishBinary, id, bundle, debug, socket, rest.isEmpty() ? "" : rest.getFirst(),
                info, version);
    }
}
