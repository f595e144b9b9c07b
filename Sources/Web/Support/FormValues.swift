import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body; a field given twice keeps its first value.
struct FormValues: Sendable {
    private var values: [String: String] = [:]

    init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// Parses `body`; bytes that are not UTF-8 become U+FFFD, so no input stops the parser.
    init(urlEncoded body: String) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            if values[name] == nil { values[name] = parts.count > 1 ? Self.decode(parts[1]) ?? "" : "" }
        }
    }

    subscript(name: String) -> String? { values[name] }

    /// The field, trimmed of surrounding spaces; empty when absent.
    func text(_ name: String) -> String { (values[name] ?? "").trimmingCharacters(in: .whitespaces) }

    private static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// Reads a form body of at most `limit` bytes.
    /// - Throws: `HTTPError(.contentTooLarge)` beyond it, `HTTPError(.unsupportedMediaType)` for another kind of body.
    static func read(_ request: Request, limit: Int) async throws -> FormValues {
        guard let type = request.headers[.contentType],
              type.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased() == "application/x-www-form-urlencoded" else {
            throw HTTPError(.unsupportedMediaType)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw HTTPError(.contentTooLarge) }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw HTTPError(.contentTooLarge)
        }
        return FormValues(urlEncoded: String(decoding: buffer.readableBytesView, as: UTF8.self))
    }
}
