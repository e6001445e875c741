package dev.katashim.ttrpc.transport;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EndpointTest {

    @Test
    void parsesEverySyntax() {
        assertThat(Endpoint.parse("unix:///run/containerd/s/abc")).isEqualTo(new Endpoint.UnixPath(Path.of("/run/containerd/s/abc")));
        assertThat(Endpoint.parse("unix://@kata-agent")).isEqualTo(new Endpoint.AbstractUnix("kata-agent"));
        assertThat(Endpoint.parse("vsock://3:1024")).isEqualTo(new Endpoint.Vsock(3, 1024));
        assertThat(Endpoint.parse("vsock://-1:1024")).isEqualTo(new Endpoint.Vsock(Endpoint.Vsock.ANY_CID, 1024));
        assertThat(Endpoint.parse("hvsock:///run/vc/kata.hvsock:1024")).isEqualTo(new Endpoint.HybridVsock(Path.of("/run/vc/kata.hvsock"), 1024));
    }

    @Test
    void printsWhatItParses() {
        for (String address : new String[]{"unix:///a/b.sock", "unix://@x", "vsock://3:1024", "hvsock:///a/h.sock:5"}) {
            assertThat(Endpoint.parse(address).toString()).isEqualTo(address);
        }
    }

    @Test
    void rejectsBadAddressesNamingTheProblem() {
        assertThatThrownBy(() -> Endpoint.parse("/run/x.sock")).hasMessageContaining("'/run/x.sock'").hasMessageContaining("expected");
        assertThatThrownBy(() -> Endpoint.parse("unix://relative.sock")).hasMessageContaining("absolute");
        assertThatThrownBy(() -> Endpoint.parse("unix://@")).hasMessageContaining("empty");
        assertThatThrownBy(() -> Endpoint.parse("vsock://3")).hasMessageContaining("vsock://CID:PORT");
        assertThatThrownBy(() -> Endpoint.parse("vsock://x:1")).hasMessageContaining("'x' is not a number");
        assertThatThrownBy(() -> Endpoint.parse("hvsock:///a/b:-4")).hasMessageContaining("negative");
    }
}
