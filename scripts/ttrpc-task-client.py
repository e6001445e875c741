#!/usr/bin/python3
"""A ttrpc client of containerd's Task service that is not ours: plain Python, no library, for
benchmarks that compare shims through the same client. It calls METHOD (State or Stats) on the
container ID, one call at a time, and prints the latency percentiles in microseconds.

  ttrpc-task-client.py SOCKET NAMESPACE ID METHOD CALLS [WARMUP]

Wire facts (containerd/ttrpc): a frame is a 10-byte header (length uint32, stream id uint32, type
byte: 1 request, 2 response; flags byte) and a protobuf payload; a Request is service (1), method
(2), payload (3), timeout_nano (4), metadata (5: key 1, value 2); a Response is status (1: a
google.rpc.Status, code 1) and payload (2). Client streams have odd ids. The namespace travels as
the metadata containerd-namespace-ttrpc. StateRequest and StatsRequest carry the id as field 1.
"""
import math
import socket
import struct
import sys
import time


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, data):
    """A length-delimited field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(data)) + data


def request(service, method, payload, namespace):
    metadata = field(1, b"containerd-namespace-ttrpc") + field(2, namespace.encode())
    return field(1, service.encode()) + field(2, method.encode()) + field(3, payload) + field(5, metadata)


def read_exactly(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buf += chunk
    return bytes(buf)


def parse_fields(data):
    """Top-level fields of a protobuf message: {number: [value, ...]} (varints as ints, the rest as bytes)."""
    fields, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(data, i)
        elif wire == 2:
            length, i = read_varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError("unexpected wire type %d" % wire)
        fields.setdefault(number, []).append(value)
    return fields


def read_varint(data, i):
    shift = result = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def call(sock, stream, frame):
    sock.sendall(struct.pack(">IIBB", len(frame), stream, 1, 0) + frame)
    length, answered, kind, _ = struct.unpack(">IIBB", read_exactly(sock, 10))
    body = read_exactly(sock, length)
    if answered != stream or kind != 2:
        raise ValueError("answer for stream %d of type %d, expected stream %d of type 2" % (answered, kind, stream))
    status = parse_fields(body).get(1)
    if status:
        rpc_status = parse_fields(status[0])
        code = rpc_status.get(1, [0])[0]
        if code:
            message = rpc_status.get(2, [b""])[0].decode(errors="replace")
            raise RuntimeError("the server answered code %d: %s" % (code, message))


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    path, namespace, container, method, calls = sys.argv[1:6]
    warmup = int(sys.argv[6]) if len(sys.argv) > 6 else 2000
    frame = request("containerd.task.v2.Task", method, field(1, container.encode()), namespace)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    stream = 1
    for _ in range(warmup):
        call(sock, stream, frame)
        stream += 2
    samples = []
    for _ in range(int(calls)):
        t = time.perf_counter_ns()
        call(sock, stream, frame)
        samples.append(time.perf_counter_ns() - t)
        stream += 2
    sock.close()
    samples.sort()
    # nearest rank, as the Java client's figures (LatencyStats)
    pick = lambda q: samples[min(len(samples) - 1, math.ceil(q * len(samples)) - 1)] / 1000
    print("p50 %.1f p99 %.1f mean %.1f calls %d" % (pick(0.50), pick(0.99), sum(samples) / len(samples) / 1000, len(samples)))


if __name__ == "__main__":
    main()
