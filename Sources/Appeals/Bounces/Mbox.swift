import Foundation

/// The messages of an mbox file, read one at a time (a mail archive can be larger than memory): each starts
/// with a `From ` line at the start of the file or after an empty line; `>From ` lines (mboxrd quoting) lose
/// one `>`. Of each message at most ``InboundMessage/maxBytes`` are kept; the rest is read and counted.
public final class Mbox {
    public let path: String
    /// The number of the message ``next()`` returned last, from 1.
    public private(set) var count = 0
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false
    /// The previous piece ended a line: the next one starts one.
    private var lineStart = true
    /// A line longer than this is handed on in pieces: only a line's start decides anything.
    private static let pieceLimit = 1 << 16

    /// - Throws: ``AppealsError/invalidInput(_:)`` when the file cannot be read, or is not empty and does not
    ///   start with a `From ` line (then it is not an mbox file, and nothing is read).
    public init(path: String) throws(AppealsError) {
        let location = InputLocation(file: path, field: "--mbox")
        let descriptor: Int32
        do {
            descriptor = try RegularFile.open(path).descriptor
        } catch {
            throw .invalid(location, error == .folder ? "a folder, not an mbox file (for a Maildir use --maildir)" : "cannot read the file: \(error.reason)")
        }
        guard let file = fdopen(descriptor, "rb") else {
            close(descriptor)
            throw .invalid(location, "cannot read the file: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.file = file
        if let first = try piece(), !first.bytes.starts(with: Self.from) {
            throw .invalid(InputLocation(file: path, line: 1, field: "--mbox"),
                           "not an mbox file: it does not start with a \"From \" line (one message alone: give it on standard input with -)")
        }
        position = 0
        lineStart = true
    }

    deinit { fclose(file) }

    private static let from = Array("From ".utf8)

    /// The next message, nil after the last.
    /// - Throws: ``AppealsError/invalidInput(_:)`` when reading the file fails.
    public func next() throws(AppealsError) -> (bytes: [UInt8], size: Int)? {
        var bytes: [UInt8] = []
        var size = 0
        var started = false, previousBlank = false
        while let (line, isLineStart) = try piece() {
            if isLineStart && line.starts(with: Self.from) && (previousBlank || !started) {
                if started {
                    position -= line.count
                    lineStart = true
                    break
                }
                started = true
                previousBlank = false
                continue
            }
            guard started else { continue }
            var line = line
            if isLineStart, line.first == 0x3E, line.drop(while: { $0 == 0x3E }).starts(with: Self.from) { line = line.dropFirst() }
            previousBlank = isLineStart && line.allSatisfy { $0 == 0x0A || $0 == 0x0D }
            size += line.count
            if bytes.count < InboundMessage.maxBytes { bytes += line.prefix(InboundMessage.maxBytes - bytes.count) }
        }
        guard started else { return nil }
        count += 1
        // The empty line before the next `From ` (or after the last message) belongs to the mbox, not the
        // message; a last message without one keeps its every byte.
        if previousBlank, bytes.count == size, bytes.last == 0x0A {
            bytes.removeLast()
            size -= 1
            if bytes.last == 0x0D {
                bytes.removeLast()
                size -= 1
            }
        }
        return (bytes, size)
    }

    /// The next line, or the next part of a long line: the bytes up to and with a line feed, at most
    /// ``pieceLimit`` of them, and whether they start a line. The slice is valid until the next call.
    private func piece() throws(AppealsError) -> (bytes: ArraySlice<UInt8>, lineStart: Bool)? {
        while true {
            if let end = buffer[position...].prefix(Self.pieceLimit).firstIndex(of: 0x0A) {
                return take(upTo: end + 1)
            }
            if buffer.count - position >= Self.pieceLimit { return take(upTo: position + Self.pieceLimit) }
            if atEnd { return position < buffer.count ? take(upTo: buffer.count) : nil }
            buffer.removeFirst(position)
            position = 0
            var chunk = [UInt8](repeating: 0, count: Self.pieceLimit)
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress!, 1, $0.count, file) }
            if n < chunk.count {
                if ferror(file) != 0 {
                    throw .invalid(InputLocation(file: path, field: "--mbox"), "cannot read the file: \(String(cString: strerror(errno)))")
                }
                atEnd = true
            }
            buffer += chunk[..<n]
        }
    }

    private func take(upTo end: Int) -> (bytes: ArraySlice<UInt8>, lineStart: Bool) {
        let piece = buffer[position..<end]
        let isLineStart = lineStart
        lineStart = piece.last == 0x0A
        position = end
        return (piece, isLineStart)
    }
}
