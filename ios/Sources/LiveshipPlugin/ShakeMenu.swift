// The debug menu's gesture and sheet (Capgo's shakeMenu / allowShakeChannelSelector). The core
// decides whether it is on (Effect.shakeMenu), what it shows (shakeMenu()) and what each choice
// does (shakeChoice()); this file only catches the shake and shows the sheet.
import UIKit

enum ShakeMenu {
    /// The core while the menu is on (main thread; set by `Effect.shakeMenu`), else nil.
    static var core: CapacitorPlugin?

    static func shaken(in window: UIWindow) {
        guard let core else { return }
        DispatchQueue.global(qos: .userInitiated).async {
            guard let menu = core.shakeMenu() else { return }
            DispatchQueue.main.async {
                let sheet = UIAlertController(title: menu.title, message: nil, preferredStyle: .actionSheet)
                for item in menu.items {
                    sheet.addAction(UIAlertAction(title: item.label, style: item.id == "close" ? .cancel : .default) { _ in
                        DispatchQueue.global(qos: .userInitiated).async {
                            core.shakeChoice(id: item.id).forEach(LiveshipRuntime.shared.carryOut)
                        }
                    })
                }
                // iPad presents action sheets as popovers, which need an anchor.
                sheet.popoverPresentationController?.sourceView = window
                sheet.popoverPresentationController?.sourceRect = CGRect(x: window.bounds.midX, y: window.bounds.midY, width: 0, height: 0)
                var top = window.rootViewController
                while let presented = top?.presentedViewController { top = presented }
                top?.present(sheet, animated: true)
            }
        }
    }
}

extension UIWindow {
    /// Shakes reach the key window's responder chain; UIWindow is where every app has one.
    override open func motionEnded(_ motion: UIEvent.EventSubtype, with event: UIEvent?) {
        if motion == .motionShake { ShakeMenu.shaken(in: self) }
        super.motionEnded(motion, with: event)
    }
}
