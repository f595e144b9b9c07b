import Foundation
import GRDB

/// One of a supporter's letters as `appeal-cli letter` shows it.
public struct LetterPreview: Sendable {
    public var target: Target
    public var letter: RenderedLetter
    /// The stored letter when it is already queued: what will be sent, with its fixed Message-ID.
    public var stored: Letter?

    /// A supporter's letters, one per target by the targeting rule: the stored letter where one is queued,
    /// else rendered now by `composer`.
    /// - Parameter stored: the supporter's queued letters with their texts.
    public static func previews(of supporter: Supporter, targets: [Target], stored: [(Letter, LetterText)], composer: LetterComposer,
                                now: Date) -> [LetterPreview] {
        let byTarget = Dictionary(stored.map { ($0.0.targetId, $0) }, uniquingKeysWith: { first, _ in first })
        return Targeting(targets).targets(for: supporter).map { target in
            if let (letter, text) = byTarget[target.id!] {
                return LetterPreview(target: target, letter: RenderedLetter(language: letter.language, subject: text.subject, body: text.body), stored: letter)
            }
            return LetterPreview(target: target, letter: composer.compose(supporter: supporter, target: target, now: now), stored: nil)
        }
    }
}

extension AppDatabase {
    /// A supporter's letters, one per target by the targeting rule: the stored letter where one is queued,
    /// else rendered now.
    public func previewLetters(campaign slug: String, supporterEmail email: String, now: Date = Date(),
                               timeZone: TimeZone = .current) throws(AppealsError) -> (Supporter, [LetterPreview]) {
        let composer = try composer(for: slug, timeZone: timeZone)
        let supporter = try supporter(email: email, campaign: slug)
        let (targets, stored) = try read { db in
            let targets = try Target.filter(Column("campaign_id") == composer.campaign.id!).order(Column("id")).fetchAll(db)
            let letters = try Letter.filter(Column("supporter_id") == supporter.id!).fetchAll(db)
            let texts = try LetterText.filter(keys: letters.map { $0.id! }).fetchAll(db).keyed(by: \.letterId)
            return (targets, letters.compactMap { letter in texts[letter.id!].map { (letter, $0) } })
        }
        let previews = LetterPreview.previews(of: supporter, targets: targets, stored: stored, composer: composer, now: now)
        return (supporter, previews)
    }
}
