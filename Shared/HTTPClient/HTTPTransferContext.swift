import CCurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What libcurl's callbacks fill in during one HTTP transfer. It reaches them as the opaque
/// `userdata` pointer (`Unmanaged`, not retained): the transfer keeps it alive with
/// `withExtendedLifetime`. Used only on the worker thread, so it needs no lock.
final class HTTPTransferContext {
    let maxBodySize: Int
    let cancellation: CancellationSignal
    let addressFilter: (@Sendable (String) -> Bool)?

    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    /// Set when the body grew past `maxBodySize` and the write callback stopped the transfer.
    var exceededLimit = false
    /// Set when `addressFilter` refused an address.
    var refusedAddress: String?

    init(maxBodySize: Int, cancellation: CancellationSignal, addressFilter: (@Sendable (String) -> Bool)?) {
        self.maxBodySize = maxBodySize
        self.cancellation = cancellation
        self.addressFilter = addressFilter
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ opaque: UnsafeMutableRawPointer) -> HTTPTransferContext {
        Unmanaged<HTTPTransferContext>.fromOpaque(opaque).takeUnretainedValue()
    }

    /// One raw header line from libcurl. A status line starts a new response (after a redirect
    /// or a `100 Continue`), so the headers collected so far are dropped.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var line = Substring(String(decoding: bytes, as: UTF8.self))
        while let last = line.last, last.isNewline { line.removeLast() }
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingSpaces()
        let value = line[line.index(after: colon)...].trimmingSpaces()
        guard !name.isEmpty else { return }
        headers.append((name: name, value: value))
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}

// MARK: - C callbacks
//
// Plain functions (no captures), so Swift can pass them as C function pointers. Each finds its
// state through the `userdata` pointer set with the matching `*DATA` option.

/// `CURLOPT_WRITEFUNCTION`: appends body bytes; returning less than given aborts the transfer
/// with `CURLE_WRITE_ERROR`, which is how an oversized body is refused.
func httpWriteCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let context = HTTPTransferContext.from(userdata)
    let length = size * count
    guard length > 0, let data else { return length }
    if context.body.count + length > context.maxBodySize {
        context.exceededLimit = true
        return 0
    }
    context.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
    return length
}

/// `CURLOPT_HEADERFUNCTION`: called once per complete header line.
func httpHeaderCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let length = size * count
    guard length > 0, let data else { return length }
    HTTPTransferContext.from(userdata).receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
    return length
}

/// `CURLOPT_OPENSOCKETFUNCTION`: asks `addressFilter` about every address before connecting
/// (also for redirects and each happy-eyeballs attempt), so a refused address is never contacted.
func httpOpenSocketCallback(
    _ userdata: UnsafeMutableRawPointer?, _ purpose: curlsocktype, _ address: UnsafeMutablePointer<curl_sockaddr>?
) -> curl_socket_t {
    guard let userdata, let address else { return -1 }
    let context = HTTPTransferContext.from(userdata)
    if let filter = context.addressFilter {
        guard let ip = numericAddress(address), filter(ip) else {
            context.refusedAddress = numericAddress(address) ?? "non-IP address"
            return -1
        }
    }
    return socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
}

/// The numeric form (`inet_ntop`) of an IPv4 or IPv6 `curl_sockaddr`.
func numericAddress(_ address: UnsafeMutablePointer<curl_sockaddr>) -> String? {
    let socketAddress = UnsafeRawPointer(address).advanced(by: ccurl_sockaddr_addr_offset())
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    let family = address.pointee.family
    let converted: UnsafePointer<CChar>?
    switch family {
    case AF_INET:
        var ipv4 = socketAddress.loadUnaligned(as: sockaddr_in.self).sin_addr
        converted = inet_ntop(AF_INET, &ipv4, &text, socklen_t(text.count))
    case AF_INET6:
        var ipv6 = socketAddress.loadUnaligned(as: sockaddr_in6.self).sin6_addr
        converted = inet_ntop(AF_INET6, &ipv6, &text, socklen_t(text.count))
    default:
        return nil
    }
    guard converted != nil else { return nil }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
