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
    /// Whether the connection libcurl keeps open has authenticated.
    private var authenticated = false

    init(settings: SMTPSettings) {
        self.settings = settings
    }

    deinit { close() }

    func close() {
        if let handle { curl_easy_cleanup(handle) }
        handle = nil
        authenticated = false
    }

    /// The message being uploaded and the server's replies, each with the command it answers, reached from
    /// libcurl's C callbacks on the session's thread.
    final class Transfer {
        struct Reply {
            var stage: SMTPStage
            var code: Int
            var text: String

            /// A refusal of a copy (`Cc`), not of the target's own address.
            var refusesCopy: Bool {
                if case .recipient(let index) = stage { return index > 0 && code >= 400 }
                return false
            }
        }

        let bytes: [UInt8]
        let recipientCount: Int
        /// `smtp.username` is set: a session that never authenticated must not send (libcurl skips AUTH without
        /// a word when the server offers none).
        let requiresAuth: Bool
        /// The connection was authenticated by an earlier message (until a new greeting shows a new connection).
        var authenticatedBefore: Bool
        private(set) var authSent = false
        private(set) var refusedForNoAuth = false
        var offset = 0
        /// The command the next reply answers: set as libcurl sends each command (its debug callback).
        var stage = SMTPStage.session
        var commandsSent = 0
        private var recipientsSent = 0
        var replies: [Reply] = []
        /// Continuation lines (`250-...`) of the reply being read.
        private var pending: [String] = []

        init(bytes: [UInt8], recipientCount: Int, requiresAuth: Bool, authenticatedBefore: Bool) {
            self.bytes = bytes
            self.recipientCount = recipientCount
            self.requiresAuth = requiresAuth
            self.authenticatedBefore = authenticatedBefore
        }

        var authenticated: Bool { authenticatedBefore || authSent }

        /// A command libcurl sent; only its verb is looked at (AUTH's arguments are credentials).
        func sent(_ command: UnsafeRawBufferPointer) {
            let verb = String(decoding: command.prefix(4), as: UTF8.self).uppercased()
            commandsSent += 1
            switch verb {
            case "MAIL": stage = .mailFrom
            case "RCPT":
                stage = .recipient(recipientsSent)
                recipientsSent += 1
            case "DATA": stage = .data
            case "AUTH":
                stage = .session
                authSent = true
            case "EHLO", "HELO", "STAR", "QUIT": stage = .session
            default: break
            }
        }

        /// A reply line; returns `false` when the transfer must stop now: the target's own address was
        /// refused, and libcurl (allowed to go on without a refused copy) would send the message to the copy alone.
        func received(_ line: String) -> Bool {
            let bytes = Array(line.utf8.prefix(4))
            guard bytes.count >= 3, let code = Int(String(decoding: bytes.prefix(3), as: UTF8.self)) else { return true }
            if bytes.count == 4 && bytes[3] == UInt8(ascii: "-") {
                if pending.count < 20 { pending.append(line) }
                return true
            }
            let text = (pending + [line]).joined(separator: " ")
            pending.removeAll()
            // A greeting before any command: libcurl opened a new connection, which has not authenticated.
            if commandsSent == 0 && code == 220 { authenticatedBefore = false }
            if stage == .mailFrom && requiresAuth && !authenticated {
                refusedForNoAuth = true
                return false
            }
            if replies.count < 200 { replies.append(Reply(stage: stage, code: code, text: String(text.prefix(2000)))) }
            if stage == .data && code == 354 { stage = .message }
            return !(stage == .recipient(0) && code >= 400 && recipientCount > 1)
        }

        /// The reply that failed the transfer: the last refusal that is not about a copy.
        var failing: Reply? {
            replies.last { $0.code >= 400 && !$0.refusesCopy }
        }

        /// Refusals of copies to other recipients than the target.
        var refusedCopies: [String] {
            replies.filter(\.refusesCopy).map(\.text)
        }
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
        let transfer = Transfer(bytes: message, recipientCount: envelope.recipients.count, requiresAuth: settings.username != nil,
                                authenticatedBefore: authenticated)
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
            appeal_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, context)
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

        if transfer.refusedForNoAuth {
            close()
            return TransportReply(.stopRun(.configuration), code: nil,
                                  text: "smtp.username is set, but \(settings.url) offered no authentication (AUTH): nothing was sent without it", stage: .session)
        }
        if code == CURLE_OK {
            authenticated = transfer.authenticated
            let accepted = transfer.replies.last { $0.stage == .message && $0.code < 400 }
            return TransportReply(.accepted, code: responseCode, text: accepted?.text ?? "\(responseCode)", stage: .message,
                                  refusedCopies: transfer.refusedCopies)
        }
        // After an error libcurl may keep a connection whose state is unknown: never reuse it.
        close()
        let failing = transfer.failing
        let text = failing?.text ?? (curlMessage.isEmpty ? String(cString: curl_easy_strerror(code)) : curlMessage)
        let wholeMessageSent = uploaded >= curl_off_t(message.count) && transfer.offset >= message.count

        switch code {
        case CURLE_LOGIN_DENIED:
            return TransportReply(.stopRun(.configuration), code: failing?.code, text: "authentication failed: \(text)", stage: .session)
        case CURLE_USE_SSL_FAILED:
            return TransportReply(.stopRun(.configuration), code: failing?.code, text: "the server does not offer STARTTLS, which security \"starttls\" requires: \(text)", stage: .session)
        case CURLE_SSL_CONNECT_ERROR where Self.isPlainServer(text):
            return TransportReply(.stopRun(.configuration), code: failing?.code,
                                  text: "the server did not speak TLS on this port: use smtp:// with \"security\": \"starttls\" (ports 587 and 25), or the server's smtps:// port (465) (\(text))",
                                  stage: .session)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return TransportReply(.stopRun(.configuration), code: failing?.code, text: "TLS failed: \(text)", stage: .session)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return TransportReply(.stopRun(.unreachable), code: nil, text: "cannot reach \(settings.url): \(text)", stage: .session)
        default:
            break
        }
        if let failing {
            let kind = TransportReply.classify(code: failing.code, text: failing.text, stage: failing.stage, sender: envelope.from)
            return TransportReply(kind, code: failing.code, text: Self.explain(kind, failing, envelope: envelope), stage: failing.stage,
                                  refusedCopies: transfer.refusedCopies)
        }
        let timedOut = code == CURLE_OPERATION_TIMEDOUT
        if wholeMessageSent && (timedOut || [CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_SEND_ERROR].contains(code)) {
            return TransportReply(.unknownOutcome, code: nil, text: "no reply after the message was sent (\(text)): it may have been accepted",
                                  stage: .message)
        }
        if timedOut && transfer.replies.isEmpty && transfer.commandsSent == 0 {
            return TransportReply(.stopRun(.unreachable), code: nil, text: "no answer from \(settings.url) within \(settings.timeoutSeconds) s",
                                  stage: .session)
        }
        if timedOut {
            return TransportReply(.stalled, code: nil, text: "\(settings.url) stopped answering for \(settings.timeoutSeconds) s before the message was handed over",
                                  stage: transfer.stage)
        }
        // The connection failed before the message was handed over: the server's trouble, not an attempt.
        if [CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_SEND_ERROR].contains(code) {
            return TransportReply(.serverBusy, code: nil, text: "the connection failed before the message was handed over (\(text))", stage: transfer.stage)
        }
        return TransportReply(.transient, code: nil, text: text, stage: transfer.stage)
    }

    /// A refusal that stops the run, said so that the operator knows what to fix; others keep the server's words.
    static func explain(_ kind: TransportReply.Kind, _ reply: Transfer.Reply, envelope: Envelope) -> String {
        guard case .stopRun = kind else { return reply.text }
        switch reply.stage {
        case _ where [530, 534, 535].contains(reply.code):
            return "authentication required or refused: \(reply.text)"
        case .mailFrom:
            return "the server refused our sender address \(envelope.from) (MAIL FROM): \(reply.text)"
        case .recipient:
            return "the server refuses to take our letters (relay, policy or sender verification: about our sender, not the target's address): \(reply.text)"
        case .message:
            return "the server refuses our messages themselves (size or content policy): \(reply.text)"
        case .data:
            return "the server refuses to take our letters (policy, about our sender): \(reply.text)"
        case .session:
            return "the server refused the session: \(reply.text)"
        }
    }

    private func makeHandle() -> UnsafeMutableRawPointer? {
        guard let handle = curl_easy_init() else { return nil }
        appeal_curl_setopt_string(handle, CURLOPT_URL, "\(settings.url)/\(settings.heloName)")
        appeal_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        appeal_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        appeal_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, settings.timeoutSeconds)
        appeal_curl_setopt_long(handle, CURLOPT_TIMEOUT, settings.timeoutSeconds)
        // The wait for the reply after the final dot is libcurl's "server response" time (120 s unless set).
        appeal_curl_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, settings.timeoutSeconds)
        appeal_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        // A refused copy to the supporter must not stop the target's own copy (the target's refusal still does:
        // `Transfer.received` stops the transfer then).
        appeal_curl_allow_rcpt_fails(handle, 1)
        if !settings.implicitTLS {
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
            if trimmed.isEmpty { return size * count }
            return transfer.received(String(decoding: trimmed, as: UTF8.self)) ? size * count : 0
        }
        // The commands libcurl sends, so that each reply is known by the command it answers. The debug callback
        // is called only in verbose mode; it prints nothing itself.
        appeal_curl_setopt_long(handle, CURLOPT_VERBOSE, 1)
        appeal_curl_setopt_debug(handle) { _, type, data, size, context in
            guard type == CURLINFO_HEADER_OUT, let data, let context else { return 0 }
            let transfer = Unmanaged<CurlSMTPSession.Transfer>.fromOpaque(context).takeUnretainedValue()
            transfer.sent(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
        return handle
    }

    /// OpenSSL's words for a peer that answered a TLS handshake in plain text (an SMTP greeting).
    static func isPlainServer(_ text: String) -> Bool {
        ["wrong version number", "packet length too long", "unexpected eof", "record layer failure"].contains { text.lowercased().contains($0) }
    }

    static func isPlainAddress(_ address: String) -> Bool {
        !address.isEmpty && address.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && $0.value < 127 && !"<>,;\"()[]\\".unicodeScalars.contains($0) }
    }
}

extension CurlSMTPTransport: CustomStringConvertible {
    /// Safe to log: names the server and its security, never the password.
    public var description: String { "SMTP \(settings)" }
}
