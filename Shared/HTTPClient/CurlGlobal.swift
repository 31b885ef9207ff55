import CCurl

/// `curl_global_init` must run once, before any other libcurl call and before threads use
/// libcurl. A `static let` is initialised lazily and exactly once (swift_once), from whichever
/// thread gets there first, which makes it the thread-safe "call once".
enum CurlGlobal {
    private static let initResult: UInt32 = ccurl_global_init_default().rawValue

    static func ensureInitialized() {
        precondition(initResult == CURLE_OK.rawValue, "curl_global_init failed with code \(initResult)")
    }
}
