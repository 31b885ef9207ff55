import CCurl

extension CurlWorker {
    /// One blocking HTTP exchange on this worker's thread and easy handle.
    func performHTTP(
        _ request: HTTPRequest,
        configuration: CurlHTTPClient.Configuration,
        timeout: Duration,
        cancellation: CancellationSignal
    ) throws -> HTTPResponse {
        if cancellation.isCancelled { throw CancellationError() }
        let context = HTTPTransferContext(
            maxBodySize: configuration.maxBodySize,
            cancellation: cancellation,
            addressFilter: configuration.addressFilter
        )
        let headerList: CurlStringList
        let resolveList: CurlStringList
        do {
            headerList = try CurlStringList(Self.headerLines(for: request))
            resolveList = try CurlStringList(configuration.resolve)
            try resetHandle()
            try configure(request, configuration: configuration, timeout: timeout)
            try set(CURLOPT_HTTPHEADER, list: headerList)
            if !resolveList.isEmpty { try set(CURLOPT_RESOLVE, list: resolveList) }
            try set(CURLOPT_WRITEDATA, pointer: context.opaque)
            try check(CURLOPT_WRITEFUNCTION, ccurl_setopt_write_function(handle, httpWriteCallback))
            try set(CURLOPT_HEADERDATA, pointer: context.opaque)
            try check(CURLOPT_HEADERFUNCTION, ccurl_setopt_header_function(handle, httpHeaderCallback))
            try abortWhenCancelled(cancellation)
            if configuration.addressFilter != nil {
                try set(CURLOPT_OPENSOCKETDATA, pointer: context.opaque)
                try check(CURLOPT_OPENSOCKETFUNCTION, ccurl_setopt_opensocket_function(handle, httpOpenSocketCallback))
            }
        } catch {
            endTransfer()
            throw HTTPClientError.invalidRequest("libcurl refused option \(error.option): \(error.message)")
        }

        let code = withExtendedLifetime((context, cancellation, headerList, resolveList)) {
            curl_easy_perform(handle)
        }
        defer { endTransfer() }
        guard code == CURLE_OK else {
            throw error(for: code, context: context, limit: configuration.maxBodySize)
        }
        return HTTPResponse(
            status: infoLong(CURLINFO_RESPONSE_CODE) ?? 0,
            headers: context.headers,
            body: context.body,
            remoteIP: infoString(CURLINFO_PRIMARY_IP),
            remotePort: infoLong(CURLINFO_PRIMARY_PORT),
            effectiveURL: infoString(CURLINFO_EFFECTIVE_URL),
            reusedConnection: infoLong(CURLINFO_NUM_CONNECTS) == 0
        )
    }

    private func configure(
        _ request: HTTPRequest, configuration: CurlHTTPClient.Configuration, timeout: Duration
    ) throws(CurlSetupError) {
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_PROTOCOLS_STR, configuration.allowedProtocols)
        try set(CURLOPT_REDIR_PROTOCOLS_STR, configuration.allowedProtocols)
        try set(CURLOPT_FOLLOWLOCATION, configuration.followRedirects)
        try set(CURLOPT_MAXREDIRS, configuration.maxRedirects)
        try set(CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.curlTimeoutMilliseconds)
        try set(CURLOPT_TIMEOUT_MS, timeout.curlTimeoutMilliseconds)
        try set(CURLOPT_USERAGENT, configuration.userAgent)
        // "" = connect directly and ignore libcurl's *_proxy environment variables.
        try set(CURLOPT_PROXY, configuration.proxy ?? "")
        // Refuses at once a response whose Content-Length is too big; the write callback
        // catches chunked or lying responses.
        try set(CURLOPT_MAXFILESIZE_LARGE, offset: Int64(configuration.maxBodySize))

        let method = request.method
        if method == .head {
            try set(CURLOPT_NOBODY, true)
        } else if request.body.isEmpty && method != .post && method != .put && method != .patch {
            try set(CURLOPT_HTTPGET, true)
            if method != .get { try set(CURLOPT_CUSTOMREQUEST, method.rawValue) }
        } else {
            let code = request.body.withUnsafeBytes {
                ccurl_setopt_copy_body(handle, $0.baseAddress, curl_off_t($0.count))
            }
            try check(CURLOPT_COPYPOSTFIELDS, code)
            if method != .post { try set(CURLOPT_CUSTOMREQUEST, method.rawValue) }
        }
    }

    /// `Name: value` lines; libcurl reads `Name:` as "remove this header", so an empty value is
    /// written `Name;`. `Expect:` turns off libcurl's `Expect: 100-continue` round trip, and
    /// `Content-Type:` its `application/x-www-form-urlencoded` default for a body: what the
    /// request holds is what is sent.
    private static func headerLines(for request: HTTPRequest) -> [String] {
        var lines = request.headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" }
        let sendsBody = !request.body.isEmpty || [.post, .put, .patch].contains(request.method)
        if sendsBody && request.header(named: "Expect") == nil {
            lines.append("Expect:")
        }
        if sendsBody && request.header(named: "Content-Type") == nil {
            lines.append("Content-Type:")
        }
        return lines
    }

    private func error(for code: CURLcode, context: HTTPTransferContext, limit: Int) -> any Error {
        let raw = Int(code.rawValue)
        let message = failureMessage(code)
        switch raw {
        case CurlCode.abortedByCallback where context.cancellation.isCancelled:
            return CancellationError()
        case CurlCode.writeError where context.exceededLimit, CurlCode.filesizeExceeded:
            return HTTPClientError.responseTooLarge(limit: limit)
        case CurlCode.couldntConnect where context.refusedAddress != nil:
            return HTTPClientError.addressRefused(context.refusedAddress ?? "")
        case CurlCode.couldntConnect, CurlCode.couldntResolveHost, CurlCode.couldntResolveProxy:
            return HTTPClientError.connectFailed(message)
        case CurlCode.operationTimedOut:
            return HTTPClientError.timedOut
        case CurlCode.unsupportedProtocol:
            return HTTPClientError.protocolNotAllowed(message)
        case CurlCode.urlMalformat:
            return HTTPClientError.invalidURL
        default:
            return HTTPClientError.transport(code: raw, message: message)
        }
    }
}
