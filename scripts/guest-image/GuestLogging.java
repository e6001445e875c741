package dev.katashim.guestimage;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.pattern.TargetLengthBasedClassNameAbbreviator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;

/**
 * The guest agent's logging inside the image: every line to stderr (the VM's console, which the
 * shim keeps as its console log), at the level of the kernel parameter {@code agent.log=LEVEL}
 * (/init passes it as {@code -Dkata.agent.log.level}), Netty at WARN. Set up in code and found by
 * logback as a service, because a logback.xml costs the agent half its start-up: the XML parser
 * and logback's configuration model load some 700 classes and spin method handles, about 2 s
 * under TCG. Lines look like logback's {@code %d{HH:mm:ss.SSS} kata-agent %-5level [%thread]
 * %logger{20} - %msg%n}.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_TOP_PRIORITY)
public final class GuestLogging extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY; // an explicit file (agent.java_opts) wins
        }
        Line layout = new Line();
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("CONSOLE");
        console.setTarget("System.err");
        console.setEncoder(encoder);
        console.start();
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(System.getProperty("kata.agent.log.level", "INFO"), Level.INFO));
        root.addAppender(console);
        context.getLogger("io.netty").setLevel(Level.WARN);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    static final class Line extends LayoutBase<ILoggingEvent> {
        private final TargetLengthBasedClassNameAbbreviator abbreviator = new TargetLengthBasedClassNameAbbreviator(20);

        @Override
        public String doLayout(ILoggingEvent event) {
            LocalTime time = LocalTime.ofInstant(Instant.ofEpochMilli(event.getTimeStamp()), ZoneOffset.UTC);
            StringBuilder line = new StringBuilder(128);
            two(line, time.getHour()).append(':');
            two(line, time.getMinute()).append(':');
            two(line, time.getSecond()).append('.');
            int millis = time.getNano() / 1_000_000;
            line.append(millis < 100 ? (millis < 10 ? "00" : "0") : "").append(millis);
            String level = event.getLevel().toString();
            line.append(" kata-agent ").append(level).append(" ".repeat(Math.max(0, 5 - level.length())));
            line.append(" [").append(event.getThreadName()).append("] ");
            line.append(abbreviator.abbreviate(event.getLoggerName())).append(" - ");
            line.append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                line.append(ThrowableProxyUtil.asString(thrown)).append(CoreConstants.LINE_SEPARATOR);
            }
            return line.toString();
        }

        private static StringBuilder two(StringBuilder line, int value) {
            return line.append(value < 10 ? "0" : "").append(value);
        }
    }
}
