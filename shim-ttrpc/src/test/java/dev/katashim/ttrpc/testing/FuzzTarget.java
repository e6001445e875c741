package dev.katashim.ttrpc.testing;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;

import java.util.List;
import java.util.Set;

/**
 * One method a fuzzed server serves: the service name it is registered under, its name and request
 * type; {@code mayBlock}: the method waits by contract (Wait: until an exit), so it is always called
 * with a short deadline.
 */
public record FuzzTarget(String service, String method, Descriptor requestType, boolean mayBlock) {

    public FuzzTarget(String service, String method, Descriptor requestType) {
        this(service, method, requestType, false);
    }

    /** Every method of {@code descriptor}, served as {@code serviceName}; those in {@code blocking} wait by contract. */
    public static List<FuzzTarget> served(ServiceDescriptor descriptor, String serviceName, Set<String> blocking) {
        return descriptor.getMethods().stream()
                .map(m -> new FuzzTarget(serviceName, m.getName(), m.getInputType(), blocking.contains(m.getName())))
                .toList();
    }

    /** Every method of {@code descriptor} under its own full name; none waits by contract. */
    public static List<FuzzTarget> of(ServiceDescriptor descriptor) {
        return served(descriptor, descriptor.getFullName(), Set.of());
    }

    @Override
    public String toString() {
        return service + "/" + method;
    }
}
