import Appeals
import Foundation

/// A confirmed supporter's letters and whether each was sent.
struct LettersPage {
    let site: WebSite
    let letters: SupporterLetters
    /// The address had already taken part: nothing new was created.
    let already: Bool

    var html: HTML {
        let language = letters.pageLanguage
        let texts = site.pages.texts(language)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: language)
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateStyle = .long
        formatter.timeStyle = .short
        let iso = ISO8601DateFormatter()
        let items = letters.letters.map { item -> [String: Any] in
            let (statusClass, statusText): (String, String) = switch item.status {
            case .sent: ("sent", texts["statusSent"]!)
            case .failed, .bounced: ("failed", texts["statusFailed"]!)
            case .cancelled: ("cancelled", texts["statusCancelled"]!)
            case .queued, .sending, .deferred: ("waiting", texts["statusWaiting"]!)
            }
            var values: [String: Any] = [
                "statusClass": statusClass, "statusText": statusText, "targetName": item.target.name, "targetTitle": item.target.title,
                "subject": item.subject, "body": item.body,
            ]
            if let sentAt = item.sentAt {
                values["sentAt"] = formatter.string(from: sentAt)
                values["sentAtISO"] = iso.string(from: sentAt)
            }
            return values
        }
        let context: [String: Any] = [
            "lang": language, "t": texts, "pageTitle": texts["lettersHeading"]!, "letters": items, "already": already,
            "erased": letters.supporter == nil,
            "campaign": ["slug": letters.campaign.slug, "organization": letters.campaign.organization],
        ]
        return HTML(html: site.pages.render("letters", context), privatePage: true)
    }
}
