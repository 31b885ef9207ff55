import Foundation

/// Where Convene may send an outgoing webhook (SSRF guard, OWASP API7). The URL must be https
/// (http only when the operator allows it) without credentials; and every address the name
/// resolves to, checked again at connect time by the HTTP client, must be public: loopback,
/// private, shared, link-local (cloud metadata at 169.254.169.254), multicast and reserved
/// ranges are refused unless the operator allow-lists them.
struct AddressPolicy: Sendable {
    var allowHTTP = false
    /// CIDR blocks the operator explicitly allows (e.g. an internal receiver).
    var allowList: [IPBlock] = []

    enum Refusal: Error, Equatable, CustomStringConvertible {
        case invalidURL
        case schemeNotAllowed(String)
        case credentialsInURL
        case forbiddenAddress(String)

        var description: String {
            switch self {
            case .invalidURL: "not a valid URL"
            case .schemeNotAllowed(let scheme): "scheme \(scheme) is not allowed (https only)"
            case .credentialsInURL: "credentials in the URL are not allowed"
            case .forbiddenAddress(let address): "address \(address) is not public"
            }
        }
    }

    /// Checks the URL's form (not its addresses: those are checked on connect).
    func checkURL(_ text: String) throws {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw Refusal.invalidURL
        }
        guard scheme == "https" || (scheme == "http" && allowHTTP) else { throw Refusal.schemeNotAllowed(scheme) }
        guard url.user == nil, url.password == nil else { throw Refusal.credentialsInURL }
        // A literal address can be refused at once.
        if IPAddress(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) != nil, !allows(host) {
            throw Refusal.forbiddenAddress(host)
        }
    }

    /// For `CurlHTTPClient.Configuration.addressFilter`: asked with each numeric address right
    /// before connecting, so a name that resolves (or re-resolves) to an internal address fails.
    func allows(_ address: String) -> Bool {
        guard let ip = IPAddress(address.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) else { return false }
        if allowList.contains(where: { $0.contains(ip) }) { return true }
        return !ip.isInternal
    }
}

/// An IPv4 or IPv6 address as bytes.
struct IPAddress: Sendable, Equatable {
    let bytes: [UInt8]

    init?(_ text: String) {
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &address) { Array($0) }
        } else {
            var address = in_addr()
            guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &address) { Array($0) }
        }
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Not a public unicast address.
    var isInternal: Bool {
        if bytes.count == 4 { return IPBlock.internalV4.contains { $0.contains(self) } }
        // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are judged as IPv4.
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return IPAddress(bytes: Array(bytes[12...])).isInternal
        }
        if bytes[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] {
            return IPAddress(bytes: Array(bytes[12...])).isInternal
        }
        return IPBlock.internalV6.contains { $0.contains(self) }
    }
}

/// A CIDR block such as `10.0.0.0/8` or `fc00::/7`.
struct IPBlock: Sendable, Equatable {
    let base: IPAddress
    let prefix: Int

    init?(_ cidr: String) {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let base = IPAddress(String(parts[0])), let prefix = Int(parts[1]),
              (0...(base.bytes.count * 8)).contains(prefix) else { return nil }
        self.base = base
        self.prefix = prefix
    }

    func contains(_ ip: IPAddress) -> Bool {
        guard ip.bytes.count == base.bytes.count else { return false }
        var remaining = prefix
        for index in 0..<ip.bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xff : ~(0xff >> bits)
            if ip.bytes[index] & mask != base.bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    static let internalV4: [IPBlock] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    ].map { IPBlock($0)! }

    static let internalV6: [IPBlock] = [
        "::/128", "::1/128", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
    ].map { IPBlock($0)! }
}
