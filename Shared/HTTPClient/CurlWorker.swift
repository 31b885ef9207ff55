import CCurl
import ThreadExecutor

/// Owns one libcurl easy handle and the one dedicated thread that uses it.
///
/// Every method runs on `executor`'s thread, never on Swift's cooperative pool, so a blocking
/// `curl_easy_perform` stalls only this worker. The handle is reused from transfer to transfer
/// (`curl_easy_reset` keeps its connection cache), which gives HTTP keep-alive and SMTP
/// connection reuse for free.
///
/// The HTTP and SMTP transfers are extensions in `CurlHTTPTransfer.swift` and
/// `CurlSMTPTransfer.swift`.
actor CurlWorker {
    nonisolated let executor: ThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The `CURL *` easy handle. Only touched on `executor`'s thread.
    let handle: UnsafeMutableRawPointer
    /// `CURLOPT_ERRORBUFFER`: libcurl writes a detailed message here when a transfer fails.
    let errorBuffer: UnsafeMutablePointer<CChar>

    init(name: String) {
        CurlGlobal.ensureInitialized()
        guard let handle = curl_easy_init() else {
            preconditionFailure("curl_easy_init failed (out of memory)")
        }
        self.handle = handle
        let errorBufferSize = ccurl_error_size()
        errorBuffer = .allocate(capacity: errorBufferSize)
        errorBuffer.initialize(repeating: 0, count: errorBufferSize)
        executor = ThreadExecutor(name: name)
    }

    /// Runs on the worker thread: closing cached connections may block (SMTP sends QUIT).
    isolated deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
        executor.shutdown()
    }

    /// Forgets the previous transfer's options (but keeps live connections, the DNS cache and TLS
    /// sessions) and sets the options every transfer needs.
    func resetHandle() throws(CurlSetupError) {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        // Threads: libcurl must not use signals (SIGALRM for DNS timeouts) in a threaded process.
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_TCP_KEEPALIVE, 1)
    }

    /// Forgets the finished transfer's options at once: they point at memory that is freed when
    /// the transfer returns (callback contexts, header and recipient lists), and hold copies of
    /// secrets (the SMTP password). libcurl could otherwise call a callback with a dangling
    /// pointer while it closes a cached connection. Read the `CURLINFO_*` values first.
    func endTransfer() {
        curl_easy_reset(handle)
    }

    /// Makes `signal` abort the coming transfer. Keep `signal` alive until the transfer is over.
    func abortWhenCancelled(_ signal: CancellationSignal) throws(CurlSetupError) {
        try set(CURLOPT_NOPROGRESS, false)
        try set(CURLOPT_XFERINFODATA, pointer: signal.opaque)
        try check(CURLOPT_XFERINFOFUNCTION, ccurl_setopt_xferinfo_function(handle, cancellationProgressCallback))
    }

    /// The detailed message of the last failure, else libcurl's generic text for `code`.
    func failureMessage(_ code: CURLcode) -> String {
        let detailed = String(cString: errorBuffer)
        if !detailed.isEmpty { return detailed }
        return String(cString: curl_easy_strerror(code))
    }

    // MARK: - Typed setopt / getinfo

    func set(_ option: CURLoption, _ value: Int) throws(CurlSetupError) {
        try check(option, ccurl_setopt_long(handle, option, value))
    }

    func set(_ option: CURLoption, _ value: Bool) throws(CurlSetupError) {
        try check(option, ccurl_setopt_long(handle, option, value ? 1 : 0))
    }

    func set(_ option: CURLoption, _ value: String) throws(CurlSetupError) {
        // libcurl copies string options, so the temporary C string may go away afterwards.
        let code = value.withCString { ccurl_setopt_string(handle, option, $0) }
        try check(option, code)
    }

    func set(_ option: CURLoption, offset value: Int64) throws(CurlSetupError) {
        try check(option, ccurl_setopt_off_t(handle, option, curl_off_t(value)))
    }

    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) throws(CurlSetupError) {
        try check(option, ccurl_setopt_pointer(handle, option, value))
    }

    /// The list is not copied: keep `list` alive until the transfer is over.
    func set(_ option: CURLoption, list: CurlStringList) throws(CurlSetupError) {
        try check(option, ccurl_setopt_slist(handle, option, list.head))
    }

    func check(_ option: CURLoption, _ code: CURLcode) throws(CurlSetupError) {
        guard code == CURLE_OK else {
            throw CurlSetupError(option: Int(option.rawValue), code: Int(code.rawValue),
                                 message: String(cString: curl_easy_strerror(code)))
        }
    }

    func infoLong(_ info: CURLINFO) -> Int? {
        var value = 0
        guard ccurl_getinfo_long(handle, info, &value) == CURLE_OK else { return nil }
        return value
    }

    func infoString(_ info: CURLINFO) -> String? {
        var value: UnsafePointer<CChar>?
        guard ccurl_getinfo_string(handle, info, &value) == CURLE_OK, let value else { return nil }
        let string = String(cString: value)
        return string.isEmpty ? nil : string
    }
}

/// A `curl_easy_setopt` call was refused (an option this libcurl build does not know, an
/// unknown protocol name, out of memory).
struct CurlSetupError: Error, Sendable {
    let option: Int
    let code: Int
    let message: String
}
