import Foundation

/// One header field of a received message, unfolded.
public struct MailHeader: Sendable, Equatable {
    public var name: String
    public var value: String
}

/// A received message taken apart: its headers in order, its body, and the parts of a multipart body.
///
/// Lenient by design: bounces come from every kind of mail software, often broken, and the parser never fails.
/// It is bounded against hostile input: nesting deeper than ``maxDepth`` or more than ``maxParts`` parts are
/// left unparsed, as plain bodies.
public struct ReceivedMessage: Sendable {
    public static let maxDepth = 12
    public static let maxParts = 500

    public let headers: [MailHeader]
    /// The body as received, still transfer-encoded.
    public let body: ArraySlice<UInt8>
    /// The parts of a `multipart/*` body; empty otherwise.
    public let parts: [ReceivedMessage]
    let depth: Int
    /// Parts were left unread: nesting deeper than ``maxDepth``, or more than ``maxParts`` parts.
    public let isTruncated: Bool

    public init(parsing bytes: [UInt8]) {
        var budget = Self.maxParts
        self.init(bytes[...], depth: 0, budget: &budget)
    }

    init(_ bytes: ArraySlice<UInt8>, depth: Int, budget: inout Int) {
        let (headerBytes, body) = Self.split(bytes)
        headers = Self.headers(in: headerBytes)
        self.body = body
        self.depth = depth
        var parts: [ReceivedMessage] = []
        var truncated = false
        if let boundary = Self.contentType(of: headers).parameters["boundary"], Self.contentType(of: headers).type.hasPrefix("multipart/"),
           !boundary.isEmpty {
            if depth < Self.maxDepth && budget > 0 {
                for part in Self.parts(of: body, boundary: Array(boundary.utf8)) {
                    guard budget > 0 else {
                        truncated = true
                        break
                    }
                    budget -= 1
                    parts.append(ReceivedMessage(part, depth: depth + 1, budget: &budget))
                }
            } else {
                truncated = true
            }
        }
        self.parts = parts
        isTruncated = truncated || parts.contains(where: \.isTruncated)
    }

    // MARK: Headers

    /// Has one of the fields every mail message has: random bytes with a colon in them do not.
    public var looksLikeMail: Bool {
        let names: Set<String> = ["from", "to", "subject", "date", "message-id", "received", "return-path", "delivered-to", "mime-version", "content-type"]
        return headers.contains { names.contains($0.name.lowercased()) }
    }

    /// The first field called `name` (any case), unfolded.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Every field called `name`, in order.
    public func headers(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    /// The media type, lower-cased (`text/plain` when absent), and its parameters (names lower-cased).
    public var contentType: (type: String, parameters: [String: String]) { Self.contentType(of: headers) }

    /// The body decoded from its transfer encoding and charset; invalid bytes are replaced, never fatal.
    public var text: String {
        MailText.decode(decodedBody, charset: contentType.parameters["charset"])
    }

    /// The body's bytes without transfer encoding.
    public var decodedBody: [UInt8] {
        switch header("Content-Transfer-Encoding")?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "base64": MailText.base64Decoded(body)
        case "quoted-printable": MailText.quotedPrintableDecoded(body)
        default: Array(body)
        }
    }

    static let enclosingTypes: Set<String> = ["message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers"]

    /// A `message/rfc822` (or `message/global`, `text/rfc822-headers`) part read as the message it carries.
    public var enclosed: ReceivedMessage? {
        let type = contentType.type
        guard Self.enclosingTypes.contains(type), depth < Self.maxDepth else { return nil }
        var budget = Self.maxParts
        return ReceivedMessage(decodedBody[...], depth: depth + 1, budget: &budget)
    }

    /// This part and all parts below it, depth first; enclosed messages are not entered.
    public var allParts: [ReceivedMessage] {
        [self] + parts.flatMap(\.allParts)
    }

    /// Whether the address `needle` may appear in the message (``AddressSearch``'s forms, any case): in its
    /// fields (and the bytes their encoded words carry), its parts' bodies (transfer encodings decoded, then as
    /// bytes whatever their charset) and text, and the messages it encloses. A message too deep or with too many
    /// parts to be searched whole may: true. The raw bytes around the parts are the caller's to search.
    public func mentions(_ needle: String) -> Bool {
        mentions(AddressSearch(needle))
    }

    func mentions(_ search: AddressSearch) -> Bool {
        if isTruncated { return true }
        for part in allParts {
            for header in part.headers {
                if search.found(in: header.value.utf8) || MailText.encodedWords(in: header.value).contains(where: { search.found(in: $0.bytes) })
                    || search.found(in: MailText.decodeEncodedWords(header.value).utf8) {
                    return true
                }
            }
            if Self.enclosingTypes.contains(part.contentType.type) {
                // An enclosed message below the depth searched is not searched: it may.
                guard let enclosed = part.enclosed else { return true }
                if enclosed.mentions(search) { return true }
            } else if part.parts.isEmpty {
                if search.found(in: part.decodedBody) || search.found(in: part.text.utf8) { return true }
            }
        }
        return false
    }

    // MARK: Parsing

    /// Splits at the first empty line (CRLF CRLF or LF LF). A message without one is all headers.
    static func split(_ bytes: ArraySlice<UInt8>) -> (headers: ArraySlice<UInt8>, body: ArraySlice<UInt8>) {
        var index = bytes.startIndex
        var lineStart = index
        while index < bytes.endIndex {
            if bytes[index] == 0x0A {
                let line = bytes[lineStart..<index]
                if line.isEmpty || line == [0x0D] {
                    return (bytes[bytes.startIndex..<lineStart], bytes[(index + 1)...])
                }
                lineStart = index + 1
            }
            index += 1
        }
        return (bytes, bytes[bytes.endIndex...])
    }

    static func headers(in bytes: ArraySlice<UInt8>) -> [MailHeader] {
        var fields: [MailHeader] = []
        for line in MailText.lines(of: bytes) {
            let text = MailText.decode(Array(line), charset: nil)
            if let first = text.first, first == " " || first == "\t" {
                if !fields.isEmpty { fields[fields.count - 1].value += " " + text.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = text[..<colon]
            // An mbox "From " line or other junk is not a field.
            guard !name.isEmpty, !name.contains(" "), !name.contains("\t") else { continue }
            fields.append(MailHeader(name: String(name), value: text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return fields
    }

    static func contentType(of headers: [MailHeader]) -> (type: String, parameters: [String: String]) {
        guard let value = headers.first(where: { $0.name.caseInsensitiveCompare("Content-Type") == .orderedSame })?.value else {
            return ("text/plain", [:])
        }
        let pieces = MailText.splitParameters(value)
        let type = pieces.first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            if parameters[name] == nil { parameters[name] = value }
        }
        return (type.contains("/") ? type : "text/plain", parameters)
    }

    /// The bodies between `--boundary` lines, up to `--boundary--`.
    static func parts(of body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let delimiter: [UInt8] = [0x2D, 0x2D] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        for line in MailText.lines(of: body, keepingEnds: true) {
            guard line.starts(with: delimiter) else { continue }
            let rest = line.dropFirst(delimiter.count)
            let closing = rest.starts(with: [0x2D, 0x2D])
            // A boundary line may carry trailing white space only.
            let tail = closing ? rest.dropFirst(2) : rest
            guard tail.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) else { continue }
            if let start = partStart {
                // The line break before a boundary belongs to the boundary.
                var end = line.startIndex
                if end > start, body[end - 1] == 0x0A { end -= 1 }
                if end > start, body[end - 1] == 0x0D { end -= 1 }
                parts.append(body[start..<end])
            }
            if closing { return parts }
            partStart = line.endIndex
        }
        // No closing boundary (a truncated bounce): the last part runs to the end.
        if let start = partStart, start < body.endIndex { parts.append(body[start...]) }
        return parts
    }
}
