package dev.katashim.shim.sandbox;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The guest console reaches the shim's log at debug level, line by line, the last words included. */
class GuestConsoleTest {
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(GuestConsole.class);

    @BeforeEach
    void capture() {
        logged.start();
        logger.addAppender(logged);
        logger.setLevel(Level.DEBUG);
    }

    @AfterEach
    void release() {
        logger.detachAppender(logged);
        logger.setLevel(null);
    }

    private java.util.List<String> messages() {
        return logged.list.stream().filter(e -> e.getLevel() == Level.DEBUG).map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void followsAFileThatAppearsLaterAndLogsWhatIsLeftAtClose(@TempDir Path dir) throws Exception {
        Path console = dir.resolve("console.log");
        GuestConsole follower = GuestConsole.follow("sb1", console);
        Files.writeString(console, "[    0.000000] Linux version 6.1\r\nkata-guest-init: starting the agent\n");
        await().atMost(Duration.ofSeconds(20)).until(() -> messages().size() == 2);
        assertThat(messages()).containsExactly("sandbox sb1 console: [    0.000000] Linux version 6.1",
                "sandbox sb1 console: kata-guest-init: starting the agent");

        Files.writeString(console, "\nKernel panic - not syncing: sysrq triggered crash\nno newline yet", StandardOpenOption.APPEND);
        follower.close();
        assertThat(messages()).endsWith("sandbox sb1 console: Kernel panic - not syncing: sysrq triggered crash",
                "sandbox sb1 console: no newline yet");
    }
}
