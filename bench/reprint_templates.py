"""Site templates for bench/make_reprints.py: a family of page chrome unlike the dev sets' footer.

The dev sets (reprint_bench.py) dress pages with one kind of chrome: a URL line, share/comment counts and a
photo credit on top, and at the bottom a section label, 8-19 *truncated* first lines of other articles,
"All news", a login prompt and a copyright line. A system tuned on that can learn "short truncated lines
= boilerplate". Real sites differ, so this module builds sites from components of other kinds:

* navigation: a masthead, a section menu with a separator (``|``, ``•``, ``›``, ``/`` ...), an account
  line, breadcrumbs, a "Trending" bar, a share bar with counters, a reading time, tag lists, a comment
  prompt, follow-us and footer-link lines, a copyright line;
* headline lists ("Related stories", "Most read", numbered or not): **full** headlines of real articles
  (BBC, Reuters titles, newsgroup subjects), some ending in a period; a site either shows a fixed list
  or a per-page sample of its bank;
* bylines/datelines (``By Jane Doe, Business Reporter`` / ``Published: 12 March 2021`` /
  ``Updated 14:32 GMT``) and author bios that depend on the page's author;
* **prose-shaped boilerplate**: newsletter pitches, cookie notices, republication/legal notices,
  corrections policies, "support our journalism" appeals, comment policies, "about us" blurbs and app
  promotions -- 15-60 words of ordinary sentences, indistinguishable in shape from article text;
* mid-article sidebars ("READ MORE: <headline>", "Advertisement", an inline newsletter pitch).

Labels exist in English, French, German, Spanish, Italian, Portuguese and Dutch; the prose components in
English, French, German and Spanish (other languages fall back to English prose). Prose components are
assembled per site from sentence alternatives (2-4 slots of 2-4 alternatives each), so two sites rarely
carry the same notice word for word; a site *network* (sister sites) shares one set of choices.

Per page a site varies: which optional components appear, the date and time, counters, the author (and
with it the byline and bio), the breadcrumb section, the tags, and (for rotating lists) which headlines
are shown. ``devlike`` sites imitate the dev generator's chrome loosely, for comparison.

Everything is driven by a ``random.Random`` passed in, so the output is a pure function of the seed.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass, field
from typing import Any

STYLES = ("nav", "prose", "hybrid", "devlike")

# ------------------------------------------------------------------------------------------ labels

_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}
_DATE_FORMATS = {
    "en": ["{d} {M} {y}", "{M} {d}, {y}", "{dd}/{mm}/{y}", "{y}-{mm}-{dd}", "{d} {Mshort} {y}"],
    "fr": ["{d} {M} {y}", "{dd}/{mm}/{y}", "le {d} {M} {y}"],
    "de": ["{d}. {M} {y}", "{dd}.{mm}.{y}"],
    "es": ["{d} de {M} de {y}", "{dd}/{mm}/{y}"],
    "it": ["{d} {M} {y}", "{dd}/{mm}/{y}"],
    "pt": ["{d} de {M} de {y}", "{dd}/{mm}/{y}"],
    "nl": ["{d} {M} {y}", "{dd}-{mm}-{y}"],
}

LABELS: dict[str, dict[str, Any]] = {
    "en": dict(
        home="Home",
        sections=["News", "World", "Business", "Markets", "Politics", "Sport", "Technology", "Science", "Health",
                  "Opinion", "Culture", "Travel", "Weather", "Video", "Local", "Money", "Energy", "Education",
                  "Lifestyle", "Property"],
        related=["Related stories", "Related articles", "More on this story", "You may also like", "Most read",
                 "Most popular", "More from {section}", "Editor's picks", "Trending now", "Don't miss"],
        trending=["Trending:", "Hot topics:", "In the news:", "Top stories:"],
        read_more=["READ MORE:", "ALSO READ:", "RELATED:", "Read more:", "See also:"],
        advert=["Advertisement", "Story continues below advertisement", "ADVERTISEMENT", "Sponsored content"],
        by=["By {author}", "By {author}, {role}", "{author} | {role}", "Written by {author}", "Words by {author}"],
        published=["Published: {date}", "Published {date}", "First published on {date}", "Posted {date}", "{date}"],
        updated=["Updated {time} GMT", "Last updated: {date}, {time}", "Updated: {time}", "Modified {date} at {time}"],
        share=["Share this article", "Share", "Share on Facebook · Share on X · Share via Email",
               "Share: Facebook | Twitter | WhatsApp | Email"],
        shares=["{n} shares", "{n} Shares", "Shared {n} times"],
        comments=["{n} comments", "Comments ({n})", "{n} Comments", "View {n} comments"],
        join=["Join the conversation", "Have your say", "Leave a comment", "Comments are closed for this article."],
        login=["Sign in to comment", "Log in to leave a comment", "You must be logged in to post a comment."],
        tags=["Tags:", "Topics:", "Filed under:", "More on:"],
        follow=["Follow us on Facebook, X and Instagram", "Follow {name}: Facebook · X · YouTube · RSS",
                "Find us on social media"],
        links=["About us", "Contact", "Privacy policy", "Terms of use", "Advertise", "Careers", "Cookie settings",
               "Accessibility", "Sitemap", "RSS feeds", "Help"],
        rights=["© {year} {name}. All rights reserved.", "Copyright © {year} {name}", "© {name} {year}",
                "{name} © {year} — all rights reserved"],
        min_read=["{n} min read", "Reading time: {n} minutes", "{n}-minute read"],
        account=["Subscribe | Sign in", "Log in · Register · Newsletters", "Sign in  Subscribe  Newsletters  E-paper",
                 "My account | Subscribe now"],
        photo=["Photo: {author}/{agency}", "Image: {agency}", "Picture: {author}"],
        all_news="All news",
    ),
    "fr": dict(
        home="Accueil",
        sections=["Actualité", "Monde", "Économie", "Politique", "Sports", "Culture", "Société", "Sciences",
                  "Santé", "Opinions", "Régions", "Météo", "Vidéos", "Tech"],
        related=["À lire aussi", "Sur le même sujet", "Les plus lus", "Nos articles recommandés", "Dans la rubrique {section}"],
        trending=["À la une :", "Tendances :"],
        read_more=["LIRE AUSSI :", "À LIRE :", "Voir aussi :"],
        advert=["Publicité", "PUBLICITÉ", "La suite après cette publicité"],
        by=["Par {author}", "Par {author}, {role}"],
        published=["Publié le {date}", "Mis en ligne le {date}", "{date}"],
        updated=["Mis à jour à {time}", "Modifié le {date} à {time}"],
        share=["Partager", "Partager sur Facebook · Twitter · E-mail"],
        shares=["{n} partages"],
        comments=["{n} commentaires", "Commentaires ({n})"],
        join=["Réagissez", "Donnez votre avis", "Les commentaires sont fermés."],
        login=["Connectez-vous pour commenter", "Vous devez être connecté pour réagir."],
        tags=["Mots-clés :", "Thèmes :"],
        follow=["Suivez-nous sur Facebook, X et Instagram", "Retrouvez {name} sur les réseaux sociaux"],
        links=["Qui sommes-nous", "Contact", "Mentions légales", "Confidentialité", "Publicité", "Plan du site",
               "Gestion des cookies", "Aide"],
        rights=["© {year} {name}. Tous droits réservés.", "© {name} {year}"],
        min_read=["Lecture : {n} min", "{n} min de lecture"],
        account=["S'abonner | Se connecter", "Mon compte · Newsletters"],
        photo=["Photo : {author}/{agency}", "Crédit : {agency}"],
        all_news="Toute l'actualité",
    ),
    "de": dict(
        home="Startseite",
        sections=["Nachrichten", "Politik", "Wirtschaft", "Sport", "Kultur", "Panorama", "Wissen", "Gesundheit",
                  "Meinung", "Region", "Wetter", "Video", "Digital", "Reise"],
        related=["Lesen Sie auch", "Das könnte Sie auch interessieren", "Meistgelesen", "Mehr zum Thema",
                 "Mehr aus {section}"],
        trending=["Top-Themen:", "Im Trend:"],
        read_more=["LESEN SIE AUCH:", "MEHR ZUM THEMA:", "Auch interessant:"],
        advert=["Anzeige", "ANZEIGE", "Weiter nach der Anzeige"],
        by=["Von {author}", "Von {author}, {role}"],
        published=["Veröffentlicht am {date}", "Erstellt: {date}", "{date}"],
        updated=["Aktualisiert: {time} Uhr", "Zuletzt aktualisiert am {date} um {time} Uhr"],
        share=["Teilen", "Teilen auf Facebook · X · E-Mail"],
        shares=["{n} Mal geteilt"],
        comments=["{n} Kommentare", "Kommentare ({n})"],
        join=["Diskutieren Sie mit", "Kommentar schreiben", "Die Kommentarfunktion ist geschlossen."],
        login=["Bitte melden Sie sich an, um zu kommentieren", "Zum Kommentieren anmelden"],
        tags=["Themen:", "Schlagworte:"],
        follow=["Folgen Sie uns auf Facebook, X und Instagram", "{name} in den sozialen Netzwerken"],
        links=["Impressum", "Kontakt", "Datenschutz", "AGB", "Mediadaten", "Karriere", "Cookie-Einstellungen", "Hilfe"],
        rights=["© {year} {name}. Alle Rechte vorbehalten.", "© {name} {year}"],
        min_read=["Lesezeit: {n} Minuten", "{n} Min. Lesezeit"],
        account=["Abo | Anmelden", "Mein Konto · Newsletter · E-Paper"],
        photo=["Foto: {author}/{agency}", "Bild: {agency}"],
        all_news="Alle Nachrichten",
    ),
    "es": dict(
        home="Portada",
        sections=["Noticias", "Internacional", "Economía", "Política", "Deportes", "Cultura", "Sociedad", "Ciencia",
                  "Salud", "Opinión", "Local", "Tiempo", "Vídeos", "Tecnología"],
        related=["Te puede interesar", "Noticias relacionadas", "Lo más leído", "Más en {section}"],
        trending=["Temas del día:", "Lo último:"],
        read_more=["LEE TAMBIÉN:", "MÁS INFORMACIÓN:", "Relacionado:"],
        advert=["Publicidad", "PUBLICIDAD", "Sigue leyendo tras la publicidad"],
        by=["Por {author}", "{author} | {role}"],
        published=["Publicado el {date}", "Actualizado el {date}", "{date}"],
        updated=["Actualizado a las {time}", "Última actualización: {date}, {time}"],
        share=["Compartir", "Compartir en Facebook · X · WhatsApp"],
        shares=["{n} veces compartido"],
        comments=["{n} comentarios", "Comentarios ({n})"],
        join=["Deja tu comentario", "Comenta esta noticia", "Los comentarios están cerrados."],
        login=["Inicia sesión para comentar", "Debes iniciar sesión para comentar."],
        tags=["Etiquetas:", "Temas:"],
        follow=["Síguenos en Facebook, X e Instagram", "{name} en redes sociales"],
        links=["Quiénes somos", "Contacto", "Aviso legal", "Privacidad", "Publicidad", "Política de cookies", "Ayuda"],
        rights=["© {year} {name}. Todos los derechos reservados.", "© {name} {year}"],
        min_read=["Lectura: {n} min", "{n} minutos de lectura"],
        account=["Suscríbete | Iniciar sesión", "Mi cuenta · Boletines"],
        photo=["Foto: {author}/{agency}", "Imagen: {agency}"],
        all_news="Todas las noticias",
    ),
    "it": dict(
        home="Home",
        sections=["Cronaca", "Esteri", "Economia", "Politica", "Sport", "Cultura", "Spettacoli", "Scienze", "Salute",
                  "Opinioni", "Meteo", "Video", "Tecnologia"],
        related=["Leggi anche", "Articoli correlati", "I più letti", "Altre notizie da {section}"],
        trending=["In evidenza:", "Ultime notizie:"],
        read_more=["LEGGI ANCHE:", "APPROFONDISCI:"],
        advert=["Pubblicità", "PUBBLICITÀ", "L'articolo continua dopo la pubblicità"],
        by=["di {author}", "Di {author}, {role}"],
        published=["Pubblicato il {date}", "{date}"],
        updated=["Aggiornato alle {time}", "Ultimo aggiornamento: {date} ore {time}"],
        share=["Condividi", "Condividi su Facebook · X · WhatsApp"],
        shares=["{n} condivisioni"],
        comments=["{n} commenti", "Commenti ({n})"],
        join=["Partecipa alla discussione", "Lascia un commento"],
        login=["Accedi per commentare", "Devi effettuare l'accesso per commentare."],
        tags=["Argomenti:", "Tag:"],
        follow=["Seguici su Facebook, X e Instagram"],
        links=["Chi siamo", "Contatti", "Note legali", "Privacy", "Pubblicità", "Cookie policy"],
        rights=["© {year} {name}. Tutti i diritti riservati.", "© {name} {year}"],
        min_read=["Tempo di lettura: {n} minuti"],
        account=["Abbonati | Accedi", "Il mio account · Newsletter"],
        photo=["Foto: {author}/{agency}"],
        all_news="Tutte le notizie",
    ),
    "pt": dict(
        home="Início",
        sections=["Notícias", "Mundo", "Economia", "Política", "Desporto", "Cultura", "Sociedade", "Ciência", "Saúde",
                  "Opinião", "Tempo", "Vídeos", "Tecnologia"],
        related=["Leia também", "Notícias relacionadas", "Mais lidas", "Mais em {section}"],
        trending=["Em destaque:", "Últimas:"],
        read_more=["LEIA TAMBÉM:", "SAIBA MAIS:"],
        advert=["Publicidade", "PUBLICIDADE", "Continua depois da publicidade"],
        by=["Por {author}", "{author} | {role}"],
        published=["Publicado em {date}", "{date}"],
        updated=["Atualizado às {time}", "Última atualização: {date}, {time}"],
        share=["Partilhar", "Partilhar no Facebook · X · WhatsApp"],
        shares=["{n} partilhas"],
        comments=["{n} comentários", "Comentários ({n})"],
        join=["Deixe o seu comentário", "Participe na conversa"],
        login=["Inicie sessão para comentar", "Tem de iniciar sessão para comentar."],
        tags=["Temas:", "Etiquetas:"],
        follow=["Siga-nos no Facebook, X e Instagram"],
        links=["Quem somos", "Contactos", "Termos de uso", "Privacidade", "Publicidade", "Cookies"],
        rights=["© {year} {name}. Todos os direitos reservados.", "© {name} {year}"],
        min_read=["Leitura: {n} min"],
        account=["Assinar | Entrar", "A minha conta · Newsletters"],
        photo=["Foto: {author}/{agency}"],
        all_news="Todas as notícias",
    ),
    "nl": dict(
        home="Home",
        sections=["Nieuws", "Buitenland", "Economie", "Politiek", "Sport", "Cultuur", "Wetenschap", "Gezondheid",
                  "Opinie", "Regio", "Weer", "Video", "Tech"],
        related=["Lees ook", "Gerelateerde artikelen", "Meest gelezen", "Meer over {section}"],
        trending=["Uitgelicht:", "Net binnen:"],
        read_more=["LEES OOK:", "MEER OVER DIT ONDERWERP:"],
        advert=["Advertentie", "ADVERTENTIE", "Het artikel gaat verder onder de advertentie"],
        by=["Door {author}", "{author} | {role}"],
        published=["Gepubliceerd op {date}", "{date}"],
        updated=["Bijgewerkt om {time}", "Laatste update: {date}, {time}"],
        share=["Delen", "Delen via Facebook · X · WhatsApp"],
        shares=["{n} keer gedeeld"],
        comments=["{n} reacties", "Reacties ({n})"],
        join=["Praat mee", "Plaats een reactie"],
        login=["Log in om te reageren", "Je moet ingelogd zijn om te reageren."],
        tags=["Onderwerpen:", "Tags:"],
        follow=["Volg ons op Facebook, X en Instagram"],
        links=["Over ons", "Contact", "Privacyverklaring", "Voorwaarden", "Adverteren", "Cookies"],
        rights=["© {year} {name}. Alle rechten voorbehouden.", "© {name} {year}"],
        min_read=["Leestijd: {n} minuten"],
        account=["Abonneren | Inloggen", "Mijn account · Nieuwsbrieven"],
        photo=["Foto: {author}/{agency}"],
        all_news="Al het nieuws",
    ),
}
LANG_WEIGHTS = {"en": 0.62, "fr": 0.09, "de": 0.09, "es": 0.08, "it": 0.04, "pt": 0.04, "nl": 0.04}

# ------------------------------------------------------------------------------------------ prose components
# Each component: a list of slots; each slot a list of alternative sentences ("" = the slot may be empty).

PROSE: dict[str, dict[str, list[list[str]]]] = {
    "newsletter": {
        "en": [["Sign up for the {short} newsletter.", "Get {name} in your inbox.", "Never miss a story from {name}.",
                "Want more stories like this?"],
               ["Our free daily briefing brings you the most important news from {city} and around the world, "
                "hand-picked by our editors.",
                "Every weekday morning we send a short email with the stories you need to know about, plus the best "
                "of our analysis and opinion.",
                "Subscribe to our morning newsletter and get the day's top headlines, local updates and weekend "
                "reads delivered straight to you.",
                "Join thousands of readers who start their day with our concise summary of the news that matters "
                "in {city}."],
               ["You can unsubscribe at any time.", "It only takes a few seconds to sign up.",
                "Read our privacy notice to find out how we use your data.",
                "Enter your email address below to get started."]],
        "fr": [["Inscrivez-vous à la newsletter de {name}.", "Recevez {name} dans votre boîte mail."],
               ["Chaque matin, notre rédaction sélectionne pour vous l'essentiel de l'actualité de {city} et du monde.",
                "Notre lettre quotidienne gratuite vous apporte les informations importantes de la journée, nos "
                "analyses et nos meilleurs reportages."],
               ["Vous pouvez vous désinscrire à tout moment.", "L'inscription ne prend que quelques secondes."]],
        "de": [["Melden Sie sich für den Newsletter von {name} an.", "Jetzt den {short}-Newsletter abonnieren."],
               ["Jeden Morgen die wichtigsten Nachrichten aus {city} und der Welt, ausgewählt von unserer Redaktion, "
                "direkt in Ihr Postfach.",
                "Unser kostenloser Newsletter bringt Ihnen werktags die Themen des Tages, Hintergründe und Kommentare."],
               ["Sie können sich jederzeit wieder abmelden.", "Die Anmeldung dauert nur wenige Sekunden."]],
        "es": [["Suscríbete al boletín de {name}.", "Recibe {name} en tu correo."],
               ["Cada mañana te enviamos una selección de las noticias más importantes de {city} y del mundo, "
                "elegidas por nuestra redacción.",
                "Nuestro boletín gratuito te ofrece cada día los titulares, los análisis y los mejores reportajes."],
               ["Puedes darte de baja en cualquier momento.", "Solo te llevará unos segundos."]],
    },
    "cookie": {
        "en": [["We use cookies and similar technologies on this website.",
                "This site uses cookies to give you the best possible experience.",
                "{name} and our partners use cookies to personalise content and ads."],
               ["They help us understand how visitors use our pages, remember your preferences and show you "
                "relevant advertising.",
                "Some are essential for the site to work, while others help us improve our services and measure "
                "audiences.",
                "By continuing to browse the site you are agreeing to our use of cookies."],
               ["You can change your settings at any time by visiting our cookie policy.",
                "Find out more about how we use your information in our privacy policy.",
                "Click accept to continue or manage your choices in the settings."]],
        "fr": [["Ce site utilise des cookies pour améliorer votre expérience de navigation.",
                "{name} et ses partenaires utilisent des cookies."],
               ["Ils nous permettent de mesurer l'audience, de personnaliser les contenus et de vous proposer des "
                "publicités adaptées à vos centres d'intérêt.",
                "En poursuivant votre navigation, vous acceptez l'utilisation de cookies conformément à notre "
                "politique de confidentialité."],
               ["Vous pouvez modifier vos choix à tout moment.",
                "Pour en savoir plus, consultez notre politique en matière de cookies."]],
        "de": [["Diese Website verwendet Cookies.", "{name} und unsere Partner nutzen Cookies und ähnliche Technologien."],
               ["Wir verwenden sie, um Inhalte und Anzeigen zu personalisieren, Funktionen für soziale Medien "
                "anzubieten und die Zugriffe auf unsere Website zu analysieren.",
                "Wenn Sie die Website weiter nutzen, stimmen Sie der Verwendung von Cookies zu."],
               ["Weitere Informationen finden Sie in unserer Datenschutzerklärung.",
                "Sie können Ihre Einstellungen jederzeit ändern."]],
        "es": [["Este sitio web utiliza cookies.", "{name} y sus socios utilizan cookies propias y de terceros."],
               ["Las usamos para analizar el tráfico, personalizar el contenido y mostrarte publicidad relacionada "
                "con tus preferencias.",
                "Si continúas navegando, consideramos que aceptas su uso."],
               ["Puedes cambiar la configuración en cualquier momento.", "Más información en nuestra política de cookies."]],
    },
    "support": {
        "en": [["Independent journalism costs money.", "Quality reporting takes time, effort and resources.",
                "{name} has been reporting on {city} since {since}."],
               ["If you value what we do, please consider supporting us with a contribution of any size.",
                "Unlike many others, we have chosen to keep our journalism open to everyone, funded by readers "
                "like you.",
                "Every contribution, however big or small, helps us keep our newsroom running and our reporting "
                "free to read."],
               ["It takes only a minute and it makes a real difference.", "Thank you for your support.",
                "Support {name} today from as little as one pound."]],
        "fr": [["Le journalisme indépendant a un coût.", "Soutenez une information libre et de qualité."],
               ["Si vous appréciez notre travail, aidez-nous en faisant un don, quel qu'en soit le montant.",
                "Notre rédaction ne dépend que de ses lecteurs : chaque contribution nous permet de continuer à "
                "enquêter et à informer."],
               ["Merci pour votre soutien.", "Cela ne prend qu'une minute."]],
        "de": [["Unabhängiger Journalismus kostet Geld.", "Qualitätsjournalismus braucht Ihre Unterstützung."],
               ["Wenn Ihnen unsere Arbeit wichtig ist, unterstützen Sie uns mit einem Beitrag in beliebiger Höhe.",
                "Wir finanzieren uns ausschließlich über unsere Leserinnen und Leser, damit unsere Artikel für alle "
                "frei zugänglich bleiben."],
               ["Vielen Dank für Ihre Unterstützung.", "Es dauert nur eine Minute."]],
        "es": [["El periodismo independiente cuesta dinero.", "Apoya el periodismo de calidad."],
               ["Si valoras nuestro trabajo, ayúdanos con una aportación de cualquier cantidad.",
                "Nuestra redacción se financia gracias a lectores como tú, y así podemos mantener nuestras noticias "
                "abiertas para todos."],
               ["Gracias por tu apoyo.", "Solo te llevará un minuto."]],
    },
    "legal": {
        "en": [["© {year} {name}.", "Copyright {year} {name} Ltd."],
               ["This material may not be published, broadcast, rewritten or redistributed in whole or in part "
                "without prior written permission.",
                "All content on this site is protected by copyright and may not be reproduced without the express "
                "written consent of the publisher.",
                "Republication or redistribution of {name} content, including by framing or similar means, is "
                "expressly prohibited without prior consent."],
               ["For syndication and licensing enquiries contact {email}.",
                "{name} is not responsible for the content of external websites.",
                "Registered office: {address}."]],
        "fr": [["© {year} {name}."],
               ["Toute reproduction, même partielle, des contenus de ce site est interdite sans autorisation écrite "
                "préalable de l'éditeur.", "Tous droits de reproduction et de représentation réservés."],
               ["Pour toute demande de licence, contactez {email}."]],
        "de": [["© {year} {name}."],
               ["Alle Rechte vorbehalten. Vervielfältigung nur mit Genehmigung des Verlags.",
                "Die Weiterverbreitung der Inhalte dieser Website ist ohne vorherige schriftliche Zustimmung untersagt."],
               ["Lizenzanfragen richten Sie bitte an {email}."]],
        "es": [["© {year} {name}."],
               ["Queda prohibida la reproducción total o parcial de los contenidos de este sitio sin autorización "
                "previa y por escrito.", "Todos los derechos reservados."],
               ["Para solicitudes de licencia, escribe a {email}."]],
    },
    "corrections": {
        "en": [["{name} is committed to accuracy and fairness in all of its reporting.",
                "We strive to get every fact right.", "Our journalists follow a strict code of practice."],
               ["If you believe we have published something that is inaccurate, please contact our readers' editor "
                "at corrections@{domain}.",
                "When we make a mistake we correct it promptly and note the change at the end of the article.",
                "If you spot an error in this article, please let us know by emailing {email} with the headline "
                "and a short explanation."],
               ["Read our full corrections policy.",
                "Complaints about our journalism can also be made to the independent press regulator.",
                "We aim to respond to every complaint within five working days."]],
    },
    "comment_policy": {
        "en": [["Comments on this article are moderated.", "We welcome reader comments on our stories.",
                "Comments are open to registered users."],
               ["Please keep the discussion civil, respectful and on topic, and do not post personal information "
                "about yourself or others.",
                "Abusive, defamatory or off-topic posts will be removed, and repeat offenders may be banned from "
                "commenting.",
                "Posts that break our community guidelines will be taken down without notice."],
               ["Read our community guidelines before posting.",
                "The views expressed in the comments are those of the readers and not of {name}.",
                "Comments close three days after publication."]],
    },
    "about": {
        "en": [["{name} is an independent news website serving {city} and the surrounding region.",
                "Founded in {since}, {name} covers local and national news, business, sport and culture.",
                "{name} is part of a family of community news sites across the region."],
               ["Our newsroom of reporters and editors is committed to reporting that holds power to account and "
                "reflects the lives of our readers.",
                "We publish breaking news around the clock and in-depth features every weekend.",
                "We are a member of the independent press regulator and follow its editors' code of practice."]],
    },
    "app": {
        "en": [["Download the {name} app for the latest news, alerts and videos, free on iOS and Android.",
                "Get breaking news alerts on your phone with the free {name} app.",
                "Read {name} on the go: our app is available from the App Store and Google Play."]],
    },
}
# author bios: slots filled per author (the bio of a page depends on its author)
BIO = [["{author} is a {role} at {name}, covering {beat}.", "{author} is {name}'s {role_l}.",
        "{author} writes about {beat} for {name}."],
       ["{pron} joined {name} in {joined} after {years} years at {prev}.",
        "Before that {pron_l} worked as a reporter at {prev}.",
        "{pron} previously reported from {city2} and holds a degree in {degree}."],
       ["{pron} can be reached at {author_email}.", "Follow {obj} on X at @{handle}.", ""]]
INLINE_PITCH = ["Sign up to our free {short} briefing and get the top stories every morning.",
                "Like this story? Get more like it in your inbox with our daily newsletter.",
                "Want the latest from {city}? Download our app for breaking news alerts."]

PROSE_FOOTER = ("newsletter", "support", "legal", "corrections", "comment_policy", "about", "app", "bio")

# ------------------------------------------------------------------------------------------ names

_PLACES = {
    "en": ["Kestrel Bay", "Ashworth", "Millbrook", "Redcliff", "Stonebridge", "Larkspur", "Granite Falls", "Westmere",
           "Oakhaven", "Silverton", "Thornbury", "Marlow Heath", "Blackwater", "Copper Ridge", "Eastwick", "Fenwick",
           "Glenmore", "Hollins", "Ivybridge", "Juniper Coast", "Kingsreach", "Lowmoor", "Northgate", "Pinecrest",
           "Queensport", "Rosedale", "Saltmarsh", "Tidewater", "Upton Vale", "Wrenfield"],
    "fr": ["Valmont", "Saint-Aubin", "Montclair", "Beaulieu", "Rochefort", "Villeneuve", "Champlain"],
    "de": ["Lindau", "Hohenfeld", "Bergheim", "Neustadt", "Rosenthal", "Falkenberg", "Eichstätt"],
    "es": ["Villaverde", "San Martín", "Almonte", "Río Claro", "Torreblanca", "Valdeflores"],
    "it": ["Valdoro", "San Vito", "Montefiore", "Roccabella"],
    "pt": ["Vila Nova", "Porto Alto", "Santa Luzia", "Serra Azul"],
    "nl": ["Westerveld", "Hoogdorp", "Zuidwolde", "Oosterhaven"],
}
_NAME_PATTERNS = {
    "en": ["The {place} {noun}", "{place} {noun}", "{place} {noun}", "The {noun} of {place}"],
    "fr": ["Le Courrier de {place}", "L'Écho de {place}", "{place} Infos", "La Voix de {place}"],
    "de": ["{place} Aktuell", "Neue {place}er Zeitung", "{place}er Anzeiger", "{place}er Rundschau"],
    "es": ["El Diario de {place}", "{place} Noticias", "La Crónica de {place}"],
    "it": ["Il Corriere di {place}", "{place} Notizie", "La Gazzetta di {place}"],
    "pt": ["Jornal de {place}", "{place} Notícias", "O Correio de {place}"],
    "nl": ["{place} Dagblad", "Nieuwsblad {place}", "De {place}er Courant"],
}
_NOUNS = ["Voice", "Insider", "Today", "Now", "Pulse", "Signal", "Lens", "Current", "Press", "Echo", "Messenger",
          "Compass", "Outlook", "Spectator", "Citizen", "Live", "Eye", "Examiner Online", "News Hub", "Quarterly"]
_TLD = {"en": [".com", ".co.uk", ".news", ".org", ".com.au", ".ie", ".co.nz"], "fr": [".fr", ".be"],
        "de": [".de", ".at"], "es": [".es", ".com.ar"], "it": [".it"], "pt": [".pt", ".com.br"], "nl": [".nl"]}
_FIRST = ["Jane", "Tom", "Priya", "Oliver", "Amara", "Lucas", "Sofia", "Daniel", "Mei", "Samuel", "Hannah",
          "Ibrahim", "Clara", "Marco", "Aisha", "Peter", "Elena", "Kwame", "Laura", "Ravi", "Nora", "Felix", "Zoe",
          "Mateo", "Ingrid", "Yusuf", "Grace", "Henrik", "Chloe", "Andrés"]
_LAST = ["Doe", "Whitfield", "Okafor", "Lindqvist", "Moreau", "Castillo", "Nakamura", "Brennan", "Kowalski",
         "Haddad", "Fischer", "Rossi", "Mensah", "Silva", "Van Dijk", "O'Connell", "Patel", "Novak", "Ferreira",
         "Schulz", "Adeyemi", "Dubois", "Marsh", "Eriksen", "Quinn", "Hartley", "Álvarez", "Kaur", "Lambert", "Ito"]
_ROLES = ["Business Reporter", "Political Editor", "Senior Correspondent", "Staff Writer", "Economics Editor",
          "Technology Reporter", "Sports Writer", "Chief Reporter", "Deputy Editor", "Data Journalist"]
_BEATS = ["energy and commodities", "local politics", "the economy", "technology and science",
          "health and social care", "courts and crime", "transport and infrastructure", "sport",
          "culture and the arts", "education", "financial markets", "the environment"]
_PREV = ["the Evening Standard", "a regional news agency", "the Financial Desk", "a business weekly",
         "public radio", "a local daily in the north", "a wire service", "a trade magazine"]
_DEGREES = ["economics", "history", "journalism", "politics", "physics", "law", "English literature"]
_AGENCIES = ["AFP", "Reuters", "AP", "EPA", "Getty Images", "PA Wire", "dpa", "ANSA", "EFE", "Lusa", "ANP"]
_TAGS = ["oil", "OPEC", "energy", "banking", "interest rates", "inflation", "trade", "elections", "parliament",
         "football", "tennis", "music", "film", "television", "technology", "internet", "mobile phones", "health",
         "courts", "police", "transport", "farming", "weather", "climate", "housing", "jobs", "stocks", "currencies",
         "gold", "wheat", "coffee", "Europe", "Asia", "United States", "Japan", "China", "Africa", "science", "space",
         "education", "religion", "computers", "software", "motoring", "aviation", "shipping", "mergers", "earnings"]
_SEPARATORS = [" | ", " • ", " · ", " › ", " / ", " – ", "  "]
_CRUMB_SEPS = [" › ", " > ", " / ", " » "]


# ------------------------------------------------------------------------------------------ sites


@dataclass
class Site:
    """A simulated news site: identity, template (ordered components with per-page probabilities) and
    the per-site banks (authors, headlines, tags) that pages draw their varying bits from."""

    idx: int
    name: str
    short: str
    domain: str
    city: str
    lang: str
    style: str
    since: int
    year: int
    psep: str
    p_header: float
    p_footer: float
    p_sidebar: float
    header: list[dict[str, Any]]
    footer: list[dict[str, Any]]
    sidebar: list[dict[str, Any]]
    authors: list[dict[str, str]]
    headlines: list[str]
    tags: list[str]
    sections: list[str]
    network: int | None = None
    weight: float = 1.0
    fields: dict[str, Any] = field(default_factory=dict)

    def fmt(self, text: str, **extra: Any) -> str:
        """Fill a template string with the site's fields (and ``extra``)."""
        if "{" not in text:
            return text
        return text.format_map(_Keep({**self.fields, **extra}))


class _Keep(dict):
    """format_map mapping that leaves unknown fields (page-level ones such as ``{n}``) in place."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def _ascii_fold(text: str) -> str:
    table = str.maketrans("éèêëàâäáãçíìîïóòôöõúùûüñÉÁÍÓÚÑÀÖÜß", "eeeeaaaaaciiiiooooouuuunEAIOUNAOUs")
    return text.translate(table)


def _prose(rng: random.Random, component: str, lang: str) -> tuple[str, str]:
    """One site's fixed version of a prose component: (language used, template text with {fields})."""
    by_lang = PROSE[component]
    use = lang if lang in by_lang else "en"
    slots = by_lang[use]
    text = " ".join(s for s in (rng.choice(slot) for slot in slots) if s)
    return use, text


def _author(rng: random.Random, site_name: str, domain: str, city: str) -> dict[str, str]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    name = f"{first} {last}"
    he = rng.random() < 0.5
    role = rng.choice(_ROLES)
    fields = dict(author=name, role=role, role_l=role.lower(), beat=rng.choice(_BEATS), name=site_name,
                  pron="He" if he else "She", pron_l="he" if he else "she", obj="him" if he else "her",
                  joined=rng.randint(2005, 2021), years=rng.randint(2, 15), prev=rng.choice(_PREV),
                  city2=rng.choice(_PLACES["en"]), degree=rng.choice(_DEGREES),
                  author_email=_ascii_fold(f"{first}.{last}").lower().replace(" ", "").replace("'", "") + "@" + domain,
                  handle=_ascii_fold(first[0] + last).replace(" ", "").replace("'", ""))
    bio = " ".join(s for s in (rng.choice(slot) for slot in BIO) if s)
    return dict(name=name, role=role, bio=bio.format(**fields))


def _style_components(rng: random.Random, style: str, lang: str) -> tuple[list[dict], list[dict], list[dict]]:
    """Header, footer and sidebar component specs of a new site of ``style``."""
    L = LABELS[lang]

    def c(kind: str, p: float = 1.0, **params: Any) -> dict[str, Any]:
        return dict(kind=kind, p=p, **params)

    def related() -> dict[str, Any]:
        return c("related", rng.choice([1.0, 1.0, 0.85]), label=rng.choice(L["related"]),
                 n_show=rng.randint(3, 8), rotate=rng.random() < 0.6, numbered=rng.random() < 0.3)

    def prose_parts(k: int) -> list[dict[str, Any]]:
        out = []
        for kind in rng.sample(PROSE_FOOTER, k):
            if kind == "bio":
                out.append(c("bio", rng.choice([1.0, 0.8])))
            else:
                used, text = _prose(rng, kind, lang)
                out.append(c(kind, rng.choice([1.0, 1.0, 0.9, 0.7]), text=text, lang=used))
        return out

    header: list[dict[str, Any]] = []
    footer: list[dict[str, Any]] = []
    sidebar: list[dict[str, Any]] = []
    if style in ("nav", "hybrid"):
        if rng.random() < 0.7:
            header.append(c("masthead", 1.0, upper=rng.random() < 0.4, tagline=rng.random() < 0.4))
        header.append(c("menu", 1.0, sep=rng.choice(_SEPARATORS),
                        items=[L["home"]] + rng.sample(L["sections"], rng.randint(5, min(10, len(L["sections"]))))))
        if rng.random() < 0.4:
            header.append(c("account", 1.0, text=rng.choice(L["account"])))
        if rng.random() < 0.35:
            header.append(c("trending", 0.9, label=rng.choice(L["trending"]), n=rng.randint(2, 4)))
        if rng.random() < 0.5:
            header.append(c("breadcrumb", 1.0, sep=rng.choice(_CRUMB_SEPS)))
        if rng.random() < 0.7:
            header.append(c("byline", 1.0, by=rng.choice(L["by"]), published=rng.choice(L["published"]),
                            updated=rng.choice(L["updated"]) if rng.random() < 0.5 else None,
                            datefmt=rng.choice(_DATE_FORMATS[lang]), readtime=rng.choice(L["min_read"])
                            if rng.random() < 0.3 else None))
        if rng.random() < 0.5:
            header.append(c("share", 0.9, text=rng.choice(L["share"]),
                            counter=rng.choice(L["shares"] + L["comments"]) if rng.random() < 0.6 else None))
        footer.append(related())
        if rng.random() < 0.5:
            footer.append(c("tags", 0.9, label=rng.choice(L["tags"])))
        if style == "hybrid":
            footer.extend(prose_parts(rng.randint(1, 2)))
        if rng.random() < 0.6:
            footer.append(c("comments", 0.9, text=rng.choice(L["comments"] + L["join"] + L["login"])))
        if rng.random() < 0.5:
            footer.append(c("follow", 1.0, text=rng.choice(L["follow"])))
        if rng.random() < 0.8:
            footer.append(c("links", 1.0, sep=rng.choice(_SEPARATORS),
                            items=rng.sample(L["links"], rng.randint(4, min(8, len(L["links"]))))))
        footer.append(c("copyright", 1.0, text=rng.choice(L["rights"])))
        sidebar.append(c("readmore", 1.0, label=rng.choice(L["read_more"])))
        if rng.random() < 0.5:
            sidebar.append(c("advert", 1.0, text=rng.choice(L["advert"])))
    elif style == "prose":
        if rng.random() < 0.5:
            used, text = _prose(rng, "cookie", lang)
            header.append(c("cookie", 1.0, text=text, lang=used))
        if rng.random() < 0.8:
            header.append(c("byline", 1.0, by=rng.choice(L["by"]), published=rng.choice(L["published"]),
                            updated=None, datefmt=rng.choice(_DATE_FORMATS[lang]), readtime=None))
        footer.extend(prose_parts(rng.randint(2, 4)))
        if rng.random() < 0.5:
            footer.append(c("copyright", 1.0, text=rng.choice(L["rights"])))
        sidebar.append(c("pitch", 1.0, text=rng.choice(INLINE_PITCH)))
        if rng.random() < 0.5:
            sidebar.append(c("readmore", 1.0, label=rng.choice(L["read_more"])))
    elif style == "devlike":
        header.append(c("url", 1.0, pattern=rng.choice(["https://{domain}/{y}/{mm}/{slug}",
                                                           "https://www.{domain}/{section}/{slug}-{num}",
                                                           "www.{domain}/news/{num}/{slug}.html"])))
        header.append(c("counts", 0.8, text=rng.choice(["Shares: {n}", "{n} comments", "{n} shares · {m} comments"])))
        header.append(c("photo", 0.5, agency=rng.choice(_AGENCIES)))
        lg = rng.choice(list(LABELS))
        footer.append(c("trunc_list", 1.0, label=rng.choice(["Latest headlines", "À lire aussi", "Lesen Sie auch",
                                                              "Más noticias", "Da non perdere", "Leia também",
                                                              "Top stories"]),
                        n=rng.randint(8, 19), all_news=LABELS[lg]["all_news"],
                        login=rng.choice(LABELS[rng.choice(list(LABELS))]["login"])))
        footer.append(c("copyright", 1.0, text="© {year} {name}. All rights reserved."))
    else:
        raise ValueError(f"unknown template style {style!r}")
    return header, footer, sidebar


def make_site(idx: int, style: str, rng: random.Random, headline_bank: list[str], trunc_bank: list[str]) -> Site:
    """A new site of ``style``; ``headline_bank`` (full headlines) and ``trunc_bank`` (article openings) feed
    its related-stories lists."""
    lang = rng.choices(list(LANG_WEIGHTS), weights=list(LANG_WEIGHTS.values()))[0]
    if style == "devlike":
        lang = "en"
    place = rng.choice(_PLACES[lang])
    pattern = rng.choice(_NAME_PATTERNS[lang])
    name = pattern.format(place=place, noun=rng.choice(_NOUNS))
    short = name[4:] if name.startswith("The ") else name
    domain = _slug(_ascii_fold(short)).replace("-", rng.choice(["", "-"])) + rng.choice(_TLD[lang])
    since = rng.randint(1995, 2019)
    header, footer, sidebar = _style_components(rng, style, lang)
    n_auth = rng.randint(2, 8)
    authors = [_author(rng, name, domain, place) for _ in range(n_auth)]
    p_period = rng.choice([0.0, 0.3, 0.6, 1.0])
    bank = []
    for h in rng.sample(headline_bank, min(len(headline_bank), rng.randint(10, 24))):
        bank.append(h + "." if rng.random() < p_period and not h.endswith((".", "?", "!")) else h)
    if style == "devlike":
        bank = rng.sample(trunc_bank, min(len(trunc_bank), 19))
    fields = dict(name=name, short=short, domain=domain, city=place, since=since,
                  year=rng.randint(2016, 2024), email=rng.choice(["newsdesk", "syndication", "licensing", "editor"])
                  + "@" + domain, address=f"{rng.randint(1, 240)} {rng.choice(['Market Street', 'High Street', 'Harbour Road', 'Mill Lane', 'Station Road'])}, {place}")
    return Site(idx=idx, name=name, short=short, domain=domain, city=place, lang=lang, style=style, since=since,
                year=fields["year"], psep=rng.choices(["\n\n", "\n", " "], weights=[0.5, 0.32, 0.18])[0],
                p_header=rng.choice([1.0, 0.9, 0.75, 0.5]), p_footer=rng.choice([1.0, 0.95, 0.8, 0.6]),
                p_sidebar=rng.choice([0.0, 0.0, 0.2, 0.4, 0.6]),
                header=header, footer=footer, sidebar=sidebar, authors=authors, headlines=bank,
                tags=rng.sample(_TAGS, 18), sections=list(LABELS[lang]["sections"]), fields=fields)


def sister_site(base: Site, idx: int, rng: random.Random) -> Site:
    """A site of the same network as ``base``: its own name and domain, the same template choices, prose
    and headline bank (sister sites of a publisher share their CMS chrome)."""
    s = copy.deepcopy(base)
    place = rng.choice(_PLACES[s.lang])
    pattern = rng.choice(_NAME_PATTERNS[s.lang])
    s.idx = idx
    s.name = pattern.format(place=place, noun=rng.choice(_NOUNS))
    s.short = s.name[4:] if s.name.startswith("The ") else s.name
    s.domain = _slug(_ascii_fold(s.short)) + rng.choice(_TLD[s.lang])
    s.city = place
    s.fields.update(name=s.name, short=s.short, domain=s.domain, city=place,
                    email=s.fields["email"].split("@")[0] + "@" + s.domain)
    s.authors = [_author(rng, s.name, s.domain, place) for _ in range(rng.randint(2, 8))]
    return s


# ------------------------------------------------------------------------------------------ pages


@dataclass
class Page:
    """Per-page varying bits."""

    rng: random.Random
    date: tuple[int, int, int]
    time: str
    author: dict[str, str]
    section: str
    slug: str
    words: int


def new_page(site: Site, rng: random.Random, first_words: list[str], n_words: int) -> Page:
    y, m, d = rng.randint(2018, 2024), rng.randint(1, 12), rng.randint(1, 28)
    return Page(rng=rng, date=(y, m, d), time=f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
                author=rng.choice(site.authors), section=rng.choice(site.sections),
                slug=_slug(_ascii_fold(" ".join(first_words[:rng.randint(4, 9)])))[:80] or "story", words=n_words)


def _date(site: Site, page: Page, fmt: str) -> str:
    y, m, d = page.date
    months = _MONTHS[site.lang].split()
    return fmt.format(y=y, d=d, dd=f"{d:02d}", mm=f"{m:02d}", M=months[m - 1], Mshort=months[m - 1][:3])


def _count(rng: random.Random) -> str:
    n = int(10 ** rng.uniform(0, 4.3))
    return f"{n / 1000:.1f}K" if n >= 1000 and rng.random() < 0.5 else str(n)


def _render(site: Site, comp: dict[str, Any], page: Page) -> list[str]:
    """Lines of one component on one page."""
    k, r = comp["kind"], page.rng
    if k == "masthead":
        name = site.name.upper() if comp["upper"] else site.name
        return [f"{name} — {site.city}'s news since {site.since}" if comp["tagline"] else name]
    if k == "menu":
        return [comp["sep"].join(comp["items"])]
    if k in ("account", "follow", "copyright", "advert", "pitch") or k in PROSE:
        return [site.fmt(comp["text"])]
    if k == "trending":
        return [comp["label"] + " " + " · ".join(r.sample(site.headlines, min(comp["n"], len(site.headlines))))]
    if k == "breadcrumb":
        L = LABELS[site.lang]
        return [comp["sep"].join([L["home"], page.section] + ([r.choice(site.tags).title()] if r.random() < 0.5 else []))]
    if k == "byline":
        a = page.author
        lines = [site.fmt(comp["by"], author=a["name"], role=a["role"]),
                 comp["published"].format(date=_date(site, page, comp["datefmt"]))]
        if comp.get("updated"):
            lines.append(comp["updated"].format(date=_date(site, page, comp["datefmt"]), time=page.time))
        if comp.get("readtime"):
            lines.append(comp["readtime"].format(n=max(1, page.words // 230)))
        return lines
    if k == "share":
        lines = [comp["text"]]
        if comp.get("counter"):
            lines.append(comp["counter"].format(n=_count(r)))
        return lines
    if k == "related":
        bank = site.headlines
        n = min(comp["n_show"], len(bank))
        items = sorted(r.sample(range(len(bank)), n)) if comp["rotate"] else list(range(n))
        lines = [site.fmt(comp["label"], section=page.section)]
        for j, i in enumerate(items):
            lines.append(f"{j + 1}. {bank[i]}" if comp["numbered"] else bank[i])
        return lines
    if k == "tags":
        return [comp["label"] + " " + ", ".join(r.sample(site.tags, r.randint(2, 5)))]
    if k == "comments":
        return [comp["text"].format(n=_count(r))]
    if k == "links":
        return [comp["sep"].join(comp["items"])]
    if k == "bio":
        return [page.author["bio"]]
    if k == "readmore":
        return [comp["label"] + " " + r.choice(site.headlines)]
    if k == "url":
        y, m, _ = page.date
        return [comp["pattern"].format(domain=site.domain, y=y, mm=f"{m:02d}", slug=page.slug,
                                       section=_slug(_ascii_fold(page.section)), num=r.randint(10_000, 9_999_999))]
    if k == "counts":
        return [comp["text"].format(n=_count(r), m=_count(r))]
    if k == "photo":
        return [f"© {r.choice(_FIRST)} {r.choice(_LAST)} / {comp['agency']}"]
    if k == "trunc_list":
        return [comp["label"]] + site.headlines[:comp["n"]] + [comp["all_news"], comp["login"]]
    raise ValueError(f"unknown component {k!r}")


def render_page(site: Site, page: Page, n_paragraphs: int) -> tuple[list[str], list[str], list[tuple[int, str]]]:
    """Header lines, footer lines and sidebars ``(before paragraph i, line)`` of one page (each possibly empty)."""
    r = page.rng
    header: list[str] = []
    footer: list[str] = []
    sidebars: list[tuple[int, str]] = []
    if r.random() < site.p_header:
        for comp in site.header:
            if r.random() < comp["p"]:
                header.extend(_render(site, comp, page))
    if r.random() < site.p_footer:
        for comp in site.footer:
            if r.random() < comp["p"]:
                footer.extend(_render(site, comp, page))
    if site.sidebar and n_paragraphs >= 3 and r.random() < site.p_sidebar:
        for _ in range(r.randint(1, 2)):
            comp = r.choice(site.sidebar)
            for line in _render(site, comp, page):
                sidebars.append((r.randint(1, n_paragraphs - 1), line))
    return header, footer, sidebars


def describe(site: Site) -> dict[str, Any]:
    """JSON-able description of a site's template (for meta.json)."""
    def spec(c: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in c.items() if k != "text"}
        if "text" in c:
            out["text"] = site.fmt(c["text"])
        return out
    return dict(idx=site.idx, name=site.name, domain=site.domain, lang=site.lang, style=site.style,
                network=site.network, weight=round(site.weight, 4), para_sep=site.psep, p_header=site.p_header,
                p_footer=site.p_footer, p_sidebar=site.p_sidebar, header=[spec(c) for c in site.header],
                footer=[spec(c) for c in site.footer], sidebar=[spec(c) for c in site.sidebar],
                authors=[a["name"] for a in site.authors], headlines=site.headlines)


