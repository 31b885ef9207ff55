/// What the SMTP transfer's callbacks use: the message being uploaded and the server's
/// replies. Reaches them through `userdata`; lives on the worker thread only.
final class SMTPTransferContext {
    let message: [UInt8]
    var offset = 0
    /// The server's reply lines (libcurl passes them to the header callback), newest last.
    /// Kept short: only the last few matter for an error message.
    var replies: [String] = []

    init(message: [UInt8]) {
        self.message = message
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ opaque: UnsafeMutableRawPointer) -> SMTPTransferContext {
        Unmanaged<SMTPTransferContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// `CURLOPT_READFUNCTION`: copies the next chunk of the message into libcurl's buffer; 0 ends
/// the upload. libcurl does the SMTP dot-stuffing and the final `CRLF.CRLF`.
func smtpReadCallback(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata, let buffer else { return 0 }
    let context = SMTPTransferContext.from(userdata)
    let length = min(size * count, context.message.count - context.offset)
    guard length > 0 else { return 0 }
    let start = context.offset
    context.message.withUnsafeBytes { source in
        UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + start, byteCount: length)
    }
    context.offset += length
    return length
}

/// `CURLOPT_HEADERFUNCTION`: for SMTP, libcurl hands over the server's reply lines.
func smtpReplyCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let length = size * count
    guard length > 0, let data else { return length }
    let context = SMTPTransferContext.from(userdata)
    var line = Substring(String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self))
    while let last = line.last, last.isNewline { line.removeLast() }
    context.replies.append(String(line.prefix(512)))
    if context.replies.count > 8 { context.replies.removeFirst() }
    return length
}
