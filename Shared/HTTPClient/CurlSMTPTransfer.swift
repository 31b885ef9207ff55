import CCurl

/// The settings of one `send`, passed to the worker.
struct SMTPTransferSettings: Sendable {
    let url: String
    let username: String?
    let password: String?
    let requireTLS: Bool
    let timeout: Duration
    let connectTimeout: Duration
}

extension CurlWorker {
    /// One blocking SMTP transaction (MAIL FROM, RCPT TO…, DATA) on this worker's handle, which
    /// keeps the connection open for the next one.
    func sendMail(
        from sender: String,
        recipients: [String],
        message: [UInt8],
        settings: SMTPTransferSettings,
        cancellation: CancellationSignal
    ) throws -> Int? {
        if cancellation.isCancelled { throw CancellationError() }
        let context = SMTPTransferContext(message: message)
        let recipientList: CurlStringList
        do {
            recipientList = try CurlStringList(recipients.map { "<\($0)>" })
            try resetHandle()
            try set(CURLOPT_URL, settings.url)
            try set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
            try set(CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeout.curlTimeoutMilliseconds)
            try set(CURLOPT_TIMEOUT_MS, settings.timeout.curlTimeoutMilliseconds)
            if settings.requireTLS {
                // STARTTLS on smtp://, and refuse to go on in clear text if the server lacks it.
                try set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
            }
            if let username = settings.username { try set(CURLOPT_USERNAME, username) }
            if let password = settings.password { try set(CURLOPT_PASSWORD, password) }
            try set(CURLOPT_MAIL_FROM, "<\(sender)>")
            try set(CURLOPT_MAIL_RCPT, list: recipientList)
            try set(CURLOPT_UPLOAD, true)
            try set(CURLOPT_INFILESIZE_LARGE, offset: Int64(message.count))
            try set(CURLOPT_READDATA, pointer: context.opaque)
            try check(CURLOPT_READFUNCTION, ccurl_setopt_read_function(handle, smtpReadCallback))
            try set(CURLOPT_HEADERDATA, pointer: context.opaque)
            try check(CURLOPT_HEADERFUNCTION, ccurl_setopt_header_function(handle, smtpReplyCallback))
            try abortWhenCancelled(cancellation)
        } catch {
            endTransfer()
            throw SMTPError(kind: .invalidConfiguration, curlCode: error.code,
                            message: "libcurl refused option \(error.option): \(error.message)")
        }

        let code = withExtendedLifetime((context, cancellation, recipientList)) {
            curl_easy_perform(handle)
        }
        defer { endTransfer() }
        let responseCode = infoLong(CURLINFO_RESPONSE_CODE).flatMap { $0 > 0 ? $0 : nil }
        guard code == CURLE_OK else {
            throw smtpError(for: code, responseCode: responseCode, context: context, cancellation: cancellation)
        }
        return responseCode
    }

    private func smtpError(
        for code: CURLcode, responseCode: Int?, context: SMTPTransferContext, cancellation: CancellationSignal
    ) -> any Error {
        let raw = Int(code.rawValue)
        var message = failureMessage(code)
        if let reply = context.replies.last, responseCode != nil, !reply.isEmpty {
            message += " — server said: \(reply)"
        }
        let kind: SMTPError.Kind
        switch raw {
        case CurlCode.abortedByCallback where cancellation.isCancelled:
            return CancellationError()
        case CurlCode.couldntConnect, CurlCode.couldntResolveHost, CurlCode.couldntResolveProxy:
            kind = .connectFailed
        case CurlCode.operationTimedOut:
            kind = .timedOut
        case CurlCode.useSSLFailed:
            kind = .tlsUnavailable
        case CurlCode.loginDenied:
            kind = .authenticationFailed
        case CurlCode.unsupportedProtocol, CurlCode.urlMalformat:
            kind = .invalidConfiguration
        default:
            kind = (responseCode ?? 0) >= 400 ? .rejected : .transport
        }
        return SMTPError(kind: kind, responseCode: responseCode, curlCode: raw, message: message)
    }
}
