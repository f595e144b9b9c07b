#if canImport(Glibc)
import Glibc
#endif

/// The bytes a ``CSVReader`` reads: a buffer in memory, or a file read a chunk at a time.
///
/// A file is read with read(2), never memory-mapped: a file cut short while it is imported (a spreadsheet saving
/// over it, a copy still being written) is then an error naming it, not a crash (a mapped page past the new end
/// of the file is a SIGBUS). A file whose size differs at its end from its size at its start is refused.
final class CSVInput {
    private enum Source {
        case memory
        case file(descriptor: Int32, size: Int)
    }

    private let file: String
    private let source: Source
    private var bytes: UnsafeMutableBufferPointer<UInt8>
    private let owned: Bool
    /// The unread bytes are `bytes[start..<end]`.
    private var start = 0
    private var end: Int
    private var readSoFar = 0
    private var atEnd: Bool

    init(_ buffer: UnsafeBufferPointer<UInt8>, file: String) {
        self.file = file
        source = .memory
        bytes = UnsafeMutableBufferPointer(mutating: buffer)
        owned = false
        end = buffer.count
        atEnd = true
    }

    /// Reads the open file `descriptor` from its current offset, `chunk` bytes at a time.
    /// - Parameter size: the file's size when the read began.
    init(descriptor: Int32, size: Int, file: String, chunk: Int = 1 << 20) {
        self.file = file
        source = .file(descriptor: descriptor, size: size)
        bytes = .allocate(capacity: max(chunk, 8192))
        owned = true
        end = 0
        atEnd = false
    }

    deinit {
        if owned { bytes.deallocate() }
    }

    /// The byte `offset` bytes ahead, nil past the end of the input.
    /// - Throws: ``AppealsError/invalidInput(_:)`` when the file cannot be read, or changed while being read.
    @inline(__always)
    func peek(_ offset: Int = 0) throws(AppealsError) -> UInt8? {
        if start + offset < end { return bytes[start + offset] }
        return try refill(offset)
    }

    @inline(__always)
    func advance(_ count: Int) {
        start += count
    }

    /// The bytes up to the first line feed, at most `limit`, without consuming them.
    func prefixLine(limit: Int) throws(AppealsError) -> [UInt8] {
        var line: [UInt8] = []
        var offset = 0
        while offset < limit, let byte = try peek(offset), byte != UInt8(ascii: "\n") {
            line.append(byte)
            offset += 1
        }
        return line
    }

    private func refill(_ offset: Int) throws(AppealsError) -> UInt8? {
        guard case .file(let descriptor, let size) = source else { return nil }
        while start + offset >= end && !atEnd {
            // The unread bytes move to the front; the rest of the buffer is filled from the file.
            if start > 0 {
                let unread = end - start
                if unread > 0 { bytes.baseAddress!.update(from: bytes.baseAddress! + start, count: unread) }
                start = 0
                end = unread
            }
            let count = bytes.count - end
            let got = read(descriptor, bytes.baseAddress! + end, count)
            if got < 0 {
                if errno == EINTR { continue }
                throw .invalid(InputLocation(file: file), "cannot read the file: \(String(cString: strerror(errno)))")
            }
            if got == 0 {
                atEnd = true
                if readSoFar != size {
                    throw .invalid(InputLocation(file: file), "the file changed while it was being read (\(size) bytes when the import began, "
                                   + "\(readSoFar) read up to its end): nothing was imported; import it again once it is written")
                }
            }
            end += got
            readSoFar += got
        }
        return start + offset < end ? bytes[start + offset] : nil
    }
}
