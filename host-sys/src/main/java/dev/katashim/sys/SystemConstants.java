package dev.katashim.sys;

import org.slf4j.LoggerFactory;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The two numbers /proc's values are counted in: clock ticks per second (USER_HZ) and the page
 * size, from {@code sysconf(3)} through the FFM API. Should that be refused (native access
 * restricted), Linux's fixed USER_HZ of 100 and the x86-64 page of 4 KiB stand in, with a warning.
 */
public final class SystemConstants {
    private static final int SC_CLK_TCK = 2;   // glibc's numbering on Linux
    private static final int SC_PAGESIZE = 30;

    /** USER_HZ: the unit of /proc's CPU times (100 on Linux). */
    public static final long CLOCK_TICKS_PER_SECOND;
    /** The size of a memory page in bytes: the unit of the RSS in /proc/<pid>/stat. */
    public static final long PAGE_SIZE;

    static {
        long ticks = 100;
        long page = 4096;
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle sysconf = linker.downcallHandle(linker.defaultLookup().find("sysconf").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            long t = (long) sysconf.invokeExact(SC_CLK_TCK);
            long p = (long) sysconf.invokeExact(SC_PAGESIZE);
            if (t > 0) {
                ticks = t;
            }
            if (p > 0) {
                page = p;
            }
        } catch (Throwable e) {
            LoggerFactory.getLogger(SystemConstants.class).warn(
                    "sysconf unavailable ({}): assuming {} clock ticks per second and {}-byte pages", e.toString(), ticks, page);
        }
        CLOCK_TICKS_PER_SECOND = ticks;
        PAGE_SIZE = page;
    }

    private SystemConstants() {
    }
}
