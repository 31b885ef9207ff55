import CCurl

/// A `struct curl_slist` (headers, SMTP recipients, resolve entries), freed on deinit.
///
/// libcurl keeps only the pointer: wrap the transfer in `withExtendedLifetime(list)` so the list
/// outlives it (ARC may otherwise release it right after its last use in Swift).
final class CurlStringList {
    private(set) var head: UnsafeMutablePointer<curl_slist>?

    init() {}

    init(_ strings: some Sequence<String>) throws(CurlSetupError) {
        for string in strings { try append(string) }
    }

    func append(_ string: String) throws(CurlSetupError) {
        // curl_slist_append copies the string; on failure it returns NULL and leaves the list as is.
        guard let newHead = curl_slist_append(head, string) else {
            throw CurlSetupError(option: 0, code: Int(CURLE_OUT_OF_MEMORY.rawValue),
                                 message: "curl_slist_append failed")
        }
        head = newHead
    }

    var isEmpty: Bool { head == nil }

    deinit {
        if let head { curl_slist_free_all(head) }
    }
}
