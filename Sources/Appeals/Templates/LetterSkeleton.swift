import Foundation
import Synchronization

/// A template rendered once with a hole in place of each of the supporter's values.
///
/// Templates can only name variables: no transforms, lambdas, partials or delimiter changes
/// (``TemplateChecker``), and letters are never escaped. So a value's text never changes how the rest
/// of a letter renders; only whether it is empty does, by opening or closing sections. Letters to one
/// target in one language on one date with the same values present therefore share everything but the
/// values themselves: filling this skeleton's holes gives, byte for byte, what swift-mustache renders,
/// for the cost of a copy instead of a name lookup through `Any` at every tag.
struct LetterSkeleton: Sendable {
    private enum Piece: Sendable {
        case text(String)
        case value(Int)
    }

    private let pieces: [Piece]
    private let fixedLength: Int

    /// A hole is one private-use code point: `U+E000` plus the ``SupporterField`` it stands for.
    private static let firstMarker: UInt32 = 0xE000
    private static let markers = firstMarker..<(firstMarker + UInt32(SupporterField.allCases.count))

    /// The supporter values to render a skeleton with: a marker for each present value, empty for each absent one.
    static func markerValues(present: UInt8) -> [String] {
        SupporterField.allCases.map { field in
            present & 1 << field.rawValue == 0 ? "" : String(Character(Unicode.Scalar(firstMarker + UInt32(field.rawValue))!))
        }
    }

    /// Whether `text` holds a marker: then holes could not be told from text, and letters are rendered in full.
    static func holdsMarker(_ text: String) -> Bool {
        text.unicodeScalars.contains { markers.contains($0.value) }
    }

    /// - Parameter rendered: a template's output rendered with ``markerValues(present:)``.
    init(rendered: String) {
        var pieces: [Piece] = []
        var text = String.UnicodeScalarView()
        for scalar in rendered.unicodeScalars {
            if Self.markers.contains(scalar.value) {
                if !text.isEmpty { pieces.append(.text(String(text))) }
                text = String.UnicodeScalarView()
                pieces.append(.value(Int(scalar.value - Self.firstMarker)))
            } else {
                text.append(scalar)
            }
        }
        if !text.isEmpty { pieces.append(.text(String(text))) }
        self.pieces = pieces
        fixedLength = pieces.reduce(0) { length, piece in
            if case .text(let text) = piece { return length + text.utf8.count }
            return length
        }
    }

    /// The letter with each hole filled from `values`, indexed by ``SupporterField``.
    func filled(with values: [String]) -> String {
        var letter = ""
        letter.reserveCapacity(fixedLength + 256)
        for piece in pieces {
            switch piece {
            case .text(let text): letter += text
            case .value(let field): letter += values[field]
            }
        }
        return letter
    }
}

/// Skeletons shared by the threads rendering one campaign's letters.
final class LetterSkeletons: Sendable {
    struct Key: Hashable {
        var language: String
        var targetId: Int64
        var date: String
        var present: UInt8
    }

    /// `nil` when the letters of that key must be rendered in full.
    typealias Entry = (subject: LetterSkeleton, body: LetterSkeleton)?

    private let entries = Mutex<[Key: Entry]>([:])

    /// The skeletons for `key`, made by `make` the first time.
    func entry(for key: Key, make: () -> Entry) -> Entry {
        if let entry = entries.withLock({ $0[key] }) { return entry }
        let entry = make()
        entries.withLock { entries in
            // A long-lived process rendering on many dates keeps only the most recent.
            if entries.count >= 4096 { entries.removeAll() }
            entries[key] = entry
        }
        return entry
    }
}
