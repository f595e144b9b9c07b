import CCurl
import Foundation

/// SMTP through libcurl: `smtp://` with STARTTLS required or no TLS, or `smtps://`; AUTH; one connection
/// reused for many messages, and a fresh one after any error.
public struct CurlSMTPTransport: MailTransport {
    public let settings: SMTPSettings

    /// `curl_global_init` is not thread-safe: run it once, before any session exists.
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    public init(settings: SMTPSettings) {
        _ = Self.globalInit
        self.settings = settings
    }

    public func makeSession() -> any MailSession { CurlSMTPSession(settings: settings) }
}

final class CurlSMTPSession: MailSession {
    let settings: SMTPSettings
    private var handle: UnsafeMutableRawPointer?

    init(settings: SMTPSettings) {
        self.settings = settings
    }

    deinit { close() }

    func close() {
        if let handle { curl_easy_cleanup(handle) }
        handle = nil
    }

    /// The message being uploaded and the server's reply lines, reached from libcurl's C callbacks.
    final class Transfer {
        let bytes: [UInt8]
        var offset = 0
        var lines: [String] = []
        init(bytes: [UInt8]) { self.bytes = bytes }
    }

    func deliver(_ message: [UInt8], envelope: Envelope) -> TransportReply {
        // libcurl copies CR and LF in addresses onto the wire: an address must be plain before it gets there.
        for address in [envelope.from] + envelope.recipients where !Self.isPlainAddress(address) {
            return TransportReply(.permanent, code: nil, text: "refused to send to or from \(address.debugDescription)")
        }
        guard let handle = handle ?? makeHandle() else {
            return TransportReply(.stopRun(.configuration), code: nil, text: "libcurl could not start a session")
        }
        self.handle = handle
        let transfer = Transfer(bytes: message)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        var recipients: UnsafeMutablePointer<curl_slist>?
        for address in envelope.recipients { recipients = curl_slist_append(recipients, "<\(address)>") }
        defer { curl_slist_free_all(recipients) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buffer in
            appeal_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(envelope.from)>")
            appeal_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
            appeal_curl_setopt_long(handle, CURLOPT_INFILESIZE, message.count)
            appeal_curl_setopt_pointer(handle, CURLOPT_READDATA, context)
            appeal_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
            appeal_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            let code = curl_easy_perform(handle)
            appeal_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
            appeal_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, nil)
            return code
        }
        var responseCode = 0
        appeal_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &responseCode)
        var uploaded: curl_off_t = 0
        appeal_curl_getinfo_off(handle, CURLINFO_SIZE_UPLOAD_T, &uploaded)
        let curlMessage = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)

        if code == CURLE_OK {
            return TransportReply(.accepted, code: responseCode, text: transfer.lines.last { $0.hasPrefix("2") } ?? "\(responseCode)")
        }
        // After an error libcurl may keep a connection whose state is unknown: never reuse it.
        close()
        let failing = Self.failingReply(transfer.lines)
        let text = failing?.text ?? (curlMessage.isEmpty ? String(cString: curl_easy_strerror(code)) : curlMessage)
        let replyCode = failing?.code
        let wholeMessageSent = uploaded >= curl_off_t(message.count) && transfer.offset >= message.count

        switch code {
        case CURLE_LOGIN_DENIED:
            return TransportReply(.stopRun(.configuration), code: replyCode, text: "authentication failed: \(text)")
        case CURLE_USE_SSL_FAILED:
            return TransportReply(.stopRun(.configuration), code: replyCode, text: "the server does not offer STARTTLS, which security \"starttls\" requires: \(text)")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return TransportReply(.stopRun(.configuration), code: replyCode, text: "TLS failed: \(text)")
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return TransportReply(.stopRun(.unreachable), code: nil, text: "cannot reach \(settings.url): \(text)")
        default:
            break
        }
        if let replyCode {
            if replyCode == 530 || replyCode == 535 || replyCode == 534 {
                return TransportReply(.stopRun(.configuration), code: replyCode, text: "authentication required or refused: \(text)")
            }
            if (500..<600).contains(replyCode) { return TransportReply(.permanent, code: replyCode, text: text) }
            if (400..<500).contains(replyCode) { return TransportReply(.transient, code: replyCode, text: text) }
        }
        if wholeMessageSent && [CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_SEND_ERROR].contains(code) {
            return TransportReply(.unknownOutcome, code: replyCode, text: "no reply after the message was sent (\(text)): it may have been accepted")
        }
        if code == CURLE_OPERATION_TIMEDOUT && transfer.lines.isEmpty {
            return TransportReply(.stopRun(.unreachable), code: nil, text: "no answer from \(settings.url) within \(settings.timeoutSeconds) s")
        }
        return TransportReply(.transient, code: replyCode, text: text)
    }

    private func makeHandle() -> UnsafeMutableRawPointer? {
        guard let handle = curl_easy_init() else { return nil }
        let host = settings.url.hasSuffix("/") ? String(settings.url.dropLast()) : settings.url
        appeal_curl_setopt_string(handle, CURLOPT_URL, "\(host)/\(settings.heloName)")
        appeal_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        appeal_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        appeal_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, settings.timeoutSeconds)
        appeal_curl_setopt_long(handle, CURLOPT_TIMEOUT, settings.timeoutSeconds)
        appeal_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        if settings.url.hasPrefix("smtp://") {
            // TRY would fall back to plaintext without a word: "starttls" means TLS or nothing.
            let mode = settings.security == .starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE
            appeal_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(mode.rawValue))
        }
        if let caFile = settings.caFile { appeal_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if let username = settings.username {
            appeal_curl_setopt_string(handle, CURLOPT_USERNAME, username)
            appeal_curl_setopt_string(handle, CURLOPT_PASSWORD, settings.password ?? "")
        }
        appeal_curl_setopt_callback(handle, CURLOPT_READFUNCTION) { buffer, size, count, context in
            guard let buffer, let context else { return 0 }
            let transfer = Unmanaged<CurlSMTPSession.Transfer>.fromOpaque(context).takeUnretainedValue()
            let length = min(size * count, transfer.bytes.count - transfer.offset)
            if length > 0 {
                transfer.bytes.withUnsafeBufferPointer { source in
                    UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + transfer.offset, byteCount: length)
                }
                transfer.offset += length
            }
            return length
        }
        appeal_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { buffer, size, count, context in
            guard let buffer, let context else { return size * count }
            let transfer = Unmanaged<CurlSMTPSession.Transfer>.fromOpaque(context).takeUnretainedValue()
            // Reply lines end in CRLF; trimmed as bytes (Foundation's trimming cost more than the reply).
            let bytes = UnsafeRawBufferPointer(start: buffer, count: size * count)
            let isSpace = { (byte: UInt8) in byte == 0x20 || (0x09...0x0D).contains(byte) }
            let trimmed = bytes.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
            if !trimmed.isEmpty && transfer.lines.count < 200 { transfer.lines.append(String(decoding: trimmed, as: UTF8.self)) }
            return size * count
        }
        return handle
    }

    /// The reply that carries the failure: the last line with a 4xx or 5xx code (QUIT's 221 comes after it).
    static func failingReply(_ lines: [String]) -> (code: Int, text: String)? {
        for line in lines.reversed() {
            guard line.count >= 3, let code = Int(line.prefix(3)), (400..<600).contains(code) else { continue }
            return (code, line)
        }
        return nil
    }

    static func isPlainAddress(_ address: String) -> Bool {
        !address.isEmpty && address.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && $0.value < 127 && !"<>,;\"()[]\\".unicodeScalars.contains($0) }
    }
}

extension CurlSMTPTransport: CustomStringConvertible {
    /// Safe to log: names the server and its security, never the password.
    public var description: String { "SMTP \(settings)" }
}
