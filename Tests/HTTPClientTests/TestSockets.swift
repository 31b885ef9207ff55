import Foundation

#if canImport(Glibc)
import Glibc
private let streamSocketType = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
import Darwin
private let streamSocketType = SOCK_STREAM
#endif

/// Loopback sockets the tests open themselves: a closed port, a listener that never answers and
/// a tiny HTTP server with canned responses.
enum TestSockets {
    /// A TCP socket bound to 127.0.0.1 on a free port; returns the descriptor and the port.
    static func bindLoopback() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, streamSocketType, 0)
        guard fd >= 0 else { throw SocketError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw SocketError("bind: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A loopback port nothing listens on (bound for a moment to pick it, then released):
    /// connecting to it is refused at once.
    static func closedPort() throws -> Int {
        let (fd, port) = try bindLoopback()
        close(fd)
        return port
    }
}

struct SocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Listens on 127.0.0.1 but never accepts: the kernel completes the TCP handshake, so a client
/// connects, sends its request and then waits for an answer that never comes.
final class SilentListener: Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        let (fd, port) = try TestSockets.bindLoopback()
        guard listen(fd, 16) == 0 else {
            close(fd)
            throw SocketError("listen: errno \(errno)")
        }
        self.fd = fd
        self.port = port
    }

    var url: String { "http://127.0.0.1:\(port)/never-answers" }

    deinit { close(fd) }
}

/// A one-thread HTTP/1.1 server on 127.0.0.1 that answers each connection with the next canned
/// response (the last one repeats), closes it, and records the raw requests it read.
final class CannedHTTPServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let lock = NSLock()
    // Guarded by `lock`.
    private var responses: [[UInt8]]
    private var served = 0
    private var recorded: [String] = []

    init(responses: [String]) throws {
        precondition(!responses.isEmpty)
        let (fd, port) = try TestSockets.bindLoopback()
        guard listen(fd, 16) == 0 else {
            close(fd)
            throw SocketError("listen: errno \(errno)")
        }
        self.fd = fd
        self.port = port
        self.responses = responses.map { Array($0.utf8) }
        Thread.detachNewThread { [self] in serve() }
    }

    /// A response with the right Content-Length and `Connection: close`.
    static func response(status: String, headers: [String] = [], body: String = "") -> String {
        var head = "HTTP/1.1 \(status)\r\n"
        for header in headers { head += header + "\r\n" }
        head += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return head + body
    }

    func url(_ path: String = "/") -> String { "http://127.0.0.1:\(port)\(path)" }

    var requests: [String] { lock.withLock { recorded } }

    /// Stops accepting; the serving thread ends.
    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private func serve() {
        while true {
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { return }
            let request = readRequest(connection)
            let response: [UInt8] = lock.withLock {
                recorded.append(request)
                defer { served += 1 }
                return responses[min(served, responses.count - 1)]
            }
            response.withUnsafeBytes { bytes in
                var sent = 0
                while sent < bytes.count {
                    let written = send(connection, bytes.baseAddress! + sent, bytes.count - sent, 0)
                    if written <= 0 { break }
                    sent += written
                }
            }
            close(connection)
        }
    }

    /// Reads the head and a Content-Length body (enough for these tests), 5 s at most.
    private func readRequest(_ connection: Int32) -> String {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
            let text = String(decoding: data, as: UTF8.self)
            guard let headEnd = text.range(of: "\r\n\r\n") else { continue }
            let head = text[..<headEnd.lowerBound].lowercased()
            let length = head.split(separator: "\r\n")
                .first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            if text.utf8.count - text.utf8.distance(from: text.startIndex, to: headEnd.upperBound) >= length { break }
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The test stack's addresses, exported by `make test`. A missing variable fails the test.
enum TestEnvironment {
    static func value(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Seconds elapsed since `start`, as a Double.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let (seconds, attoseconds) = start.duration(to: .now).components
    return Double(seconds) + Double(attoseconds) / 1e18
}
