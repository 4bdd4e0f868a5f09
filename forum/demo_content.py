"""Demo boards, members and threads (French) used to seed a fresh Vigie forum."""

from __future__ import annotations

from typing import Any

BOARDS: list[dict[str, Any]] = [
    {
        "slug": "metz",
        "name": "Metz",
        "region": "Moselle (57) · Grand Est",
        "description": (
            "Caméras, centre de supervision urbaine, drones et projets sécuritaires à Metz. "
            "Chiffres sourcés bienvenus."
        ),
    },
    {
        "slug": "saint-etienne",
        "name": "Saint-Étienne",
        "region": "Loire (42) · Auvergne-Rhône-Alpes",
        "description": (
            "Veille sur les caméras municipales, les capteurs sonores et la « ville connectée » "
            "stéphanoise."
        ),
    },
    {
        "slug": "montpellier",
        "name": "Montpellier",
        "region": "Hérault (34) · Occitanie",
        "description": (
            "Suivi des engagements municipaux sur la reconnaissance faciale, les drones et "
            "l'analyse automatisée des images."
        ),
    },
    {
        "slug": "grenoble",
        "name": "Grenoble",
        "region": "Isère (38) · Auvergne-Rhône-Alpes",
        "description": (
            "Vidéosurveillance grenobloise : études, marchés publics et recensement des "
            "dispositifs sur le terrain."
        ),
    },
    {
        "slug": "general",
        "name": "Général",
        "region": "France",
        "description": (
            "Sujets nationaux : loi, CNIL, demandes de documents administratifs et méthode pour "
            "sourcer et vérifier un chiffre."
        ),
    },
]

MEMBERS: list[tuple[str, str]] = [
    ("admin", "admin"),
    ("moderatrice", "moderator"),
    ("lea", "member"),
    ("Bastien_57", "member"),
    ("karim.mtz", "member"),
    ("camille.l", "member"),
    ("stéphanoise", "member"),
    ("yann-34", "member"),
    ("marion.g38", "member"),
]

THREADS: list[dict[str, Any]] = [
    # ------------------------------------------------------------------ Général
    {
        "board": "general",
        "title": "Bienvenue sur Vigie : fonctionnement et modération",
        "posts": [
            (
                "admin",
                "Bienvenue !\n\n"
                "Vigie rassemble des groupes d'habitants qui suivent les dispositifs de "
                "surveillance de leur ville. Un forum par ville, un fil par sujet.\n\n"
                "Les messages sont relus avant publication (**modération a priori**) : ne vous "
                "inquiétez pas si le vôtre n'apparaît pas tout de suite. Pour faire des "
                "paragraphes, laissez simplement une ligne vide.",
                399.6,
            ),
            (
                "moderatrice",
                "Trois règles simples :\n\n"
                "- on parle des **décisions et des équipements**, jamais des personnes "
                "(agents, passants, riverains) ;\n"
                "- chaque chiffre vient avec sa source ;\n"
                "- on reste courtois, même en désaccord.\n\n"
                "Merci à toutes et à tous !",
                397.9,
            ),
            (
                "stéphanoise",
                "Merci pour l'accueil. Je suis à Saint-Étienne ; j'ouvre tout de suite un fil "
                "sur les capteurs sonores de Beaubrun-Tarentaize dans le forum de la ville.",
                389.0,
            ),
        ],
    },
    {
        "board": "general",
        "title": "Comment sourcer un chiffre",
        "posts": [
            (
                "admin",
                "Quelques repères pour les chiffres publiés ici :\n\n"
                "1. **Dire d'où vient le chiffre** : délibération, marché public, rapport, "
                "article de presse, enquête d'association.\n"
                "2. Donner la date du chiffre, pas seulement celle du message.\n"
                "3. Mettre un lien vers le document, même si c'est un PDF.\n"
                "4. Séparer ce que dit le document de vos propres calculs.",
                398.7,
            ),
            (
                "camille.l",
                "J'ajoute : quand on corrige un chiffre après coup, on le signale dans le "
                "message avec une mention « [édit : ...] » plutôt que de le remplacer en "
                "silence. Ça évite les malentendus quand quelqu'un a déjà cité l'ancienne "
                "version.",
                358.4,
            ),
            (
                "karim.mtz",
                "Pour la presse, mieux vaut remonter à l'article d'origine qu'à une reprise : "
                "les chiffres se déforment vite d'un site à l'autre (arrondis, année qui "
                "saute, « caméras » qui deviennent « capteurs »...).",
                255.2,
            ),
            (
                "lea",
                "Exemple concret tiré du fil Metz : les 7 400 € par caméra et par an sont une "
                "**moyenne nationale** de la Cour des comptes (rapport de 2011), pas un coût "
                "mesuré à Metz. À préciser à chaque fois qu'on le reprend.",
                15.1,
            ),
        ],
    },
    {
        "board": "general",
        "title": "Écrire à la CNIL : modèle et retours d'expérience",
        "posts": [
            (
                "moderatrice",
                "On peut signaler un dispositif à la CNIL par le formulaire de plainte en ligne "
                "ou par courrier. Ce qui aide vraiment :\n\n"
                "- décrire le dispositif précisément (lieu, type, photo prise depuis la rue) ;\n"
                "- joindre les documents publics (délibération, marché, article) ;\n"
                "- expliquer ce qui pose question : pas de panneau, captation du son, "
                "reconnaissance faciale...\n\n"
                "Un courrier type : https://example.org/guides/modele-courrier-cnil.odt",
                306.5,
            ),
            (
                "stéphanoise",
                "Retour d'expérience stéphanois : d'après la presse, c'est après un "
                "avertissement de la CNIL que le projet de capteurs sonores a été abandonné, à "
                "l'automne 2019. Ça ne marche pas à tous les coups, mais ça peut peser.",
                240.0,
            ),
            (
                "Bastien_57",
                "À Metz, le dernier contrôle sur place de la CNIL remonte à **2008**, quand la "
                "ville avait 35 caméras. On prépare un courrier pour demander si un nouveau "
                "contrôle est envisagé, vu que le parc a été multiplié par quatre depuis.",
                80.9,
            ),
        ],
    },
    {
        "board": "general",
        "title": "Demander un document administratif (CADA)",
        "posts": [
            (
                "admin",
                "Mode d'emploi en bref :\n\n"
                "1. Écrire à la collectivité en invoquant le droit d'accès aux documents "
                "administratifs (code des relations entre le public et l'administration).\n"
                "2. Être précis : « la délibération du ... », « le rapport d'activité du CSU "
                "pour l'année ... ».\n"
                "3. Sans réponse au bout d'un mois, c'est un refus implicite : on peut alors "
                "saisir la CADA, dans un délai de deux mois.\n\n"
                "Modèle de lettre : https://example.org/guides/demande-document-administratif.odt",
                280.2,
            ),
            (
                "lea",
                "Question : est-ce qu'on peut demander par ce biais les images d'une caméra "
                "précise ? Ou seulement les documents qui en parlent ?",
                214.7,
            ),
            (
                "admin",
                "@lea les images relèvent plutôt du droit d'accès aux données personnelles, et "
                "seulement pour celles où l'on apparaît soi-même. La procédure CADA sert pour "
                "les documents : délibérations, marchés, rapports, arrêtés d'autorisation.",
                125.0,
            ),
            (
                "Bastien_57",
                "Demande envoyée pour le bilan d'activité du CSU de Metz, en suivant le modèle. "
                "Merci pour le guide, je donnerai des nouvelles dans le fil Metz.",
                0.2,
            ),
        ],
    },
    # --------------------------------------------------------------------- Metz
    {
        "board": "metz",
        "title": "Metz - équipement et utilisation",
        "posts": [
            (
                "Bastien_57",
                "Bonjour à toutes et à tous,\n\n"
                "J'ouvre ce fil pour rassembler ce qu'on sait du parc de caméras messin et de "
                "son usage. Pour commencer, les chiffres de l'enquête de l'association locale, "
                "recoupés avec la presse régionale :\n\n"
                "| Année | Caméras de la police municipale | Source |\n"
                "|---|---|---|\n"
                "| 2008 | 35 | enquête de l'association |\n"
                "| novembre 2014 | 72 | enquête de l'association |\n"
                "| 2018 | 128 | enquête de l'association |\n"
                "| 2020 | 148 | association et presse régionale |\n\n"
                "Le parc a été multiplié par plus de quatre en douze ans. Si vous avez des "
                "documents qui complètent ou contredisent, postez-les ici avec leur source.",
                395.5,
            ),
            (
                "karim.mtz",
                "Merci @Bastien_57. Pour le centre de supervision urbaine (CSU), le rapport de "
                "la ville que j'ai retrouvé donne :\n\n"
                "- **8 agents** devant les écrans ;\n"
                "- une ouverture **24 h/24** ;\n"
                "- 1,5 poste de technicien pour l'entretien ;\n"
                "- des images conservées **15 jours**.\n\n"
                "Le document : https://example.org/metz/rapport-centre-supervision-urbaine.pdf",
                371.2,
            ),
            (
                "lea",
                "Question peut-être naïve : qui contrôle tout ça ? J'ai lu que la dernière "
                "visite sur place de la CNIL datait de 2008, à l'époque des 35 caméras. "
                "Depuis, rien ?",
                352.8,
            ),
            (
                "Bastien_57",
                "Côté budget : en 2019, le conseil municipal a voté **200 000 €** pour "
                "renouveler une partie du matériel (délibération DCM 19-02-28-14).\n\n"
                "Le texte : https://example.org/deliberations/dcm-19-02-28-14.pdf\n\n"
                "Attention, il s'agit de renouvellement, pas d'extension : les nouvelles "
                "caméras passent par d'autres lignes.",
                330.4,
            ),
            (
                "camille.l",
                "Justement, côté extension : un appel d'offres publié en **février 2020** "
                "porte sur l'installation et la maintenance de 10 caméras supplémentaires, "
                "pour environ ~~150 000 €~~ 250 000 €. [édit : chiffre corrigé, c'est bien "
                "250 000 € dans l'avis de marché]\n\n"
                "L'avis : https://example.org/marches/metz-2020-02-videoprotection.html",
                301.7,
            ),
            (
                "karim.mtz",
                "Pour un ordre de grandeur du fonctionnement : la Cour des comptes estimait en "
                "2011 le coût moyen à environ 7 400 € par caméra et par an (moyenne nationale). "
                "Appliqué à 148 caméras, on dépasserait le million d'euros par an, mais c'est "
                "**mon extrapolation**, pas un chiffre de la ville.",
                276.3,
            ),
            (
                "lea",
                "Autre équipement repéré : des **caméras thermiques** aux passages piétons, qui "
                "servent à régler la durée du feu selon la présence de piétons. Elles étaient "
                "déjà en service en 2020.\n\n"
                "L'usage paraît anodin, mais ça vaudrait le coup de savoir si les images sont "
                "enregistrées et qui y a accès.",
                248.9,
            ),
            (
                "Bastien_57",
                "@lea a dit :\n"
                "> L'usage paraît anodin, mais ça vaudrait le coup de savoir si les images "
                "sont enregistrées et qui y a accès.\n\n"
                "D'accord. Une caméra thermique de carrefour ne distingue pas les visages, mais "
                "une fois le matériel et le réseau installés, changer d'usage coûte peu. "
                "J'ajoute la question à notre future demande de documents.",
                219.6,
            ),
            (
                "karim.mtz",
                "Sur les drones : au **printemps 2020**, pendant le premier confinement, la "
                "police a fait voler des drones au-dessus des parcs des bords de Moselle, "
                "fermés par arrêté préfectoral. Des habitants l'ont signalé et la presse "
                "régionale en a parlé.\n\n"
                "À ma connaissance, pas de survol des rues elles-mêmes. Si quelqu'un a vu "
                "autre chose, dites-le avec la date et le lieu.",
                187.2,
            ),
            (
                "camille.l",
                "Je remonte une info que je n'avais pas vue ici : en **janvier 2020**, la "
                "presse a rapporté que le club de football de la ville testait la "
                "reconnaissance faciale avec une entreprise privée. Ce n'est pas la mairie, "
                "mais le stade accueille des milliers de personnes.\n\n"
                "Je cherche un document officiel (avis, convention). Pour l'instant je n'ai "
                "que l'article : https://example.org/presse/metz-stade-reconnaissance-faciale",
                160.5,
            ),
            (
                "moderatrice",
                "Petit rappel : j'ai laissé en attente deux messages qui donnaient le nom d'un "
                "agent du CSU. On parle des dispositifs et des décisions publiques, pas des "
                "personnes. Merci à @karim.mtz pour le signalement.",
                121.8,
            ),
            (
                "lea",
                "Pour le contexte politique : aux municipales de 2020, un candidat promettait "
                "**1 000 caméras de plus**, soit près de sept fois le parc de l'époque. Son "
                "programme est archivé ici : "
                "https://example.org/archives/municipales-2020-metz-programme.pdf\n\n"
                "J'en parle plus en détail dans le fil sur les municipales.",
                88.4,
            ),
            (
                "Bastien_57",
                "Un chiffre de l'enquête de l'association que j'avais oublié : en 2020, les "
                "périmètres de vidéosurveillance autorisés couvraient environ **21 km²**, soit "
                "la moitié de la commune. On est loin de « quelques caméras en centre-ville ».",
                54.1,
            ),
            (
                "camille.l",
                "Synthèse du fil pour la réunion de jeudi :\n\n"
                "1. parc : 35 caméras en 2008, 148 en 2020 ;\n"
                "2. CSU : 8 agents, 24 h/24, images gardées 15 jours ;\n"
                "3. argent : 200 000 € (DCM 19-02-28-14) et un marché de 250 000 € pour "
                "10 caméras ;\n"
                "4. à suivre : caméras thermiques, drones, essai de reconnaissance faciale "
                "au stade.\n\n"
                "Il nous manque le bilan annuel du CSU. @Bastien_57 tu fais la demande ou je "
                "m'en charge ?",
                23.7,
            ),
            (
                "Bastien_57",
                "@camille.l je m'en occupe, en suivant le modèle du fil CADA dans Général. Je "
                "posterai l'accusé de réception ici.",
                2.3,
            ),
        ],
    },
    {
        "board": "metz",
        "title": "Municipales 2020 : ce que promettaient les candidats sur la surveillance",
        "posts": [
            (
                "lea",
                "J'ai commencé à relire les programmes de 2020 archivés en ligne, sur le seul "
                "volet vidéosurveillance. Le seul engagement chiffré que j'ai trouvé pour "
                "l'instant : **+1 000 caméras** chez un candidat. Les autres textes restent "
                "vagues (« tranquillité publique », « présence sur le terrain »).\n\n"
                "Pas de noms ici : l'idée est de comparer des engagements, pas de refaire la "
                "campagne.",
                342.6,
            ),
            (
                "Bastien_57",
                "Une association de défense des droits avait prévu à l'époque d'envoyer un "
                "questionnaire aux candidats sur la « surveillance intelligente ». Quelqu'un "
                "sait si les réponses ont été publiées ?",
                318.0,
            ),
            (
                "karim.mtz",
                "@Bastien_57 je n'ai trouvé qu'un compte rendu de réunion qui le mentionne, "
                "sans les réponses. Je leur écris pour demander.",
                289.5,
            ),
            (
                "camille.l",
                "Pour les prochaines élections, on pourrait préparer un questionnaire court et "
                "public, avec des questions fermées :\n\n"
                "- reconnaissance faciale : oui / non ?\n"
                "- drones de police : oui / non ?\n"
                "- audit indépendant du CSU avant toute extension : oui / non ?\n\n"
                "Des réponses en oui/non se comparent facilement.",
                95.2,
            ),
        ],
    },
    # ------------------------------------------------------------ Saint-Étienne
    {
        "board": "saint-etienne",
        "title": "Capteurs sonores à Beaubrun-Tarentaize : chronologie",
        "posts": [
            (
                "stéphanoise",
                "Je reprends la chronologie du projet de « capteurs sonores » dans le quartier "
                "Beaubrun-Tarentaize, pour que les nouveaux s'y retrouvent :\n\n"
                "- **2019** : la ville annonce une cinquantaine de capteurs, reliés aux "
                "caméras ;\n"
                "- les trois premiers doivent coûter 30 000 €, payés à 80 % par l'ANRU ;\n"
                "- **automne 2019** : projet abandonné après un avertissement de la CNIL.\n\n"
                "Sources : presse locale et dossier du collectif, "
                "https://example.org/saint-etienne/capteurs-sonores-dossier.pdf",
                388.1,
            ),
            (
                "yann-34",
                "80 % par l'ANRU ? L'agence qui finance d'habitude la rénovation des logements "
                "et des équipements publics ? Drôle d'usage de cet argent.",
                360.7,
            ),
            (
                "stéphanoise",
                "@yann-34 oui, c'est ce qui avait fait réagir dans le quartier. Sur 30 000 €, "
                "cela fait 24 000 € venus de l'ANRU et 6 000 € restant à la charge de la ville.",
                335.2,
            ),
            (
                "lea",
                "Est-ce qu'on dispose du texte de l'avertissement de la CNIL, ou seulement de "
                "ce qu'en a rapporté la presse ?",
                296.0,
            ),
            (
                "moderatrice",
                "@lea je n'ai trouvé que des articles et la réaction de la ville. Tant qu'on "
                "n'a pas le document, mieux vaut écrire « selon la presse, la CNIL a averti la "
                "ville ». Voir aussi le fil « Écrire à la CNIL » dans Général.",
                205.4,
            ),
            (
                "stéphanoise",
                "Mise à jour : j'ai demandé le courrier à la mairie (procédure CADA). Le délai "
                "d'un mois est dépassé sans réponse, je vais saisir la commission.",
                61.9,
            ),
        ],
    },
    {
        "board": "saint-etienne",
        "title": "Caméras municipales : 329 en 2019, et combien ça coûte ?",
        "posts": [
            (
                "stéphanoise",
                "Les chiffres de base, tels que publiés par le collectif local : la police "
                "municipale disposait de **329 caméras** en 2019, trois fois plus qu'en 2014.\n\n"
                "Pour les coûts, la seule source détaillée que j'aie trouvée est le rapport de "
                "la chambre régionale des comptes de **2006** :\n\n"
                "- achat de 67 caméras sur cinq ans : 340 000 € par an ;\n"
                "- maintenance : environ 60 000 € par an ;\n"
                "- personnel du centre de supervision : environ 900 000 € par an.",
                312.3,
            ),
            (
                "marion.g38",
                "Et sur l'efficacité ? Il me semble qu'un sociologue avait étudié le cas "
                "stéphanois.",
                270.8,
            ),
            (
                "stéphanoise",
                "@marion.g38 oui : d'après son étude, les images n'ont facilité l'élucidation "
                "que d'environ **1,2 %** des délits commis sur la voie publique. Le chiffre est "
                "cité dans la pétition du collectif, qui renvoie à ses travaux.",
                233.1,
            ),
            (
                "yann-34",
                "Prudence quand même avec les comparaisons : les montants de 2006 ne disent "
                "rien du coût actuel de 329 caméras. En revanche, les 1,2 % sont un bon "
                "argument pour demander une évaluation publique avant tout nouvel achat.",
                12.6,
            ),
        ],
    },
    # -------------------------------------------------------------- Montpellier
    {
        "board": "montpellier",
        "title": "Lettre ouverte du 10 mars 2020 aux candidats : toujours sans réponse",
        "posts": [
            (
                "yann-34",
                "Rappel pour les nouveaux : le **10 mars 2020**, une lettre ouverte a été "
                "adressée à tous les candidats aux municipales pour leur demander de s'engager "
                "contre la reconnaissance faciale. Aucune réponse n'a été reçue.\n\n"
                "Le texte : https://example.org/montpellier/lettre-ouverte-2020-03-10.pdf",
                380.9,
            ),
            (
                "camille.l",
                "Pas une seule réponse, même pas un accusé de réception ? C'est presque une "
                "réponse en soi...",
                344.1,
            ),
            (
                "yann-34",
                "@camille.l rien du tout, d'après les personnes qui l'ont envoyée. À noter "
                "quand même : plus tard en 2020, le maire élu s'est engagé à ne pas utiliser "
                "de drones de police (voir l'autre fil).",
                262.7,
            ),
            (
                "moderatrice",
                "J'ai fusionné ici deux messages en double et ajouté le lien vers le PDF dans "
                "le premier message. Merci de citer la date exacte de la lettre quand vous en "
                "parlez ailleurs, ça évite les confusions.",
                140.3,
            ),
        ],
    },
    {
        "board": "montpellier",
        "title": "Motion de décembre 2022 contre l'analyse automatisée des images",
        "posts": [
            (
                "yann-34",
                "En **décembre 2022**, le conseil municipal a adopté une motion visant à "
                "interdire l'analyse automatisée d'images à partir de données personnelles, "
                "autrement dit la reconnaissance faciale.\n\n"
                "Le texte : https://example.org/montpellier/conseil/motion-2022-12.pdf",
                226.4,
            ),
            (
                "lea",
                "Une motion, ça engage juridiquement la ville ou c'est une déclaration "
                "d'intention ?",
                199.0,
            ),
            (
                "yann-34",
                "@lea c'est surtout politique : une motion n'a pas la force d'un règlement. "
                "Mais c'est un point d'appui : si un marché d'analyse vidéo apparaît un jour, "
                "on pourra la rappeler publiquement.",
                150.6,
            ),
            (
                "marion.g38",
                "Bonne idée de la mettre en regard des marchés publics. À Grenoble, on surveille "
                "les avis de marché avec quelques mots-clés (« vidéoprotection », « analyse "
                "vidéo », « VSA »). Je peux partager la liste si ça vous sert.",
                40.2,
            ),
        ],
    },
    {
        "board": "montpellier",
        "title": "Drones de police : l'engagement de 2020 tient-il ?",
        "posts": [
            (
                "camille.l",
                "En 2020, le maire s'est engagé à ne pas utiliser de drones de police. "
                "Quelqu'un a-t-il vu un drone municipal depuis ? Je pose la question avant "
                "d'écrire quoi que ce soit.",
                175.9,
            ),
            (
                "yann-34",
                "Pas vu de drone de la police municipale. Attention toutefois : la police "
                "nationale dépend de la préfecture, pas de la mairie. Un drone aperçu pendant "
                "une manifestation ne contredit donc pas forcément l'engagement.",
                110.2,
            ),
            (
                "camille.l",
                "Merci, la distinction est importante. Je reformule : la ville a-t-elle acheté "
                "ou loué un drone ? Ça, ça se vérifie dans les marchés et les délibérations.",
                30.5,
            ),
        ],
    },
    # ----------------------------------------------------------------- Grenoble
    {
        "board": "grenoble",
        "title": "Étude universitaire 2017-2020 : la vidéosurveillance dans les enquêtes",
        "posts": [
            (
                "marion.g38",
                "Une équipe universitaire a étudié, de 2017 à 2020, la place de la "
                "vidéosurveillance dans les enquêtes judiciaires, sur **quatre secteurs "
                "urbains** de l'agglomération. Je n'ai pour l'instant qu'une présentation : "
                "https://example.org/grenoble/etude-videosurveillance-enquetes-2017-2020",
                366.0,
            ),
            (
                "Bastien_57",
                "Intéressant. Est-ce qu'ils donnent une part d'enquêtes où les images ont "
                "vraiment aidé, comme les 1,2 % de Saint-Étienne ?",
                322.9,
            ),
            (
                "marion.g38",
                "@Bastien_57 je ne veux pas avancer de chiffre avant d'avoir lu le rapport. La "
                "présentation parle surtout de la façon dont les enquêteurs demandent et "
                "utilisent les images, pas d'un taux.",
                284.4,
            ),
            (
                "lea",
                "Bonne prudence. Tu peux aussi écrire directement aux auteurs : les chercheurs "
                "envoient souvent leurs rapports quand on le leur demande.",
                178.3,
            ),
            (
                "marion.g38",
                "Rapport reçu, merci @lea pour l'idée ! Je prépare une fiche de lecture d'une "
                "page et je la poste ici dès qu'elle est relue.",
                70.8,
            ),
        ],
    },
    {
        "board": "grenoble",
        "title": "Recenser les caméras du centre-ville : on s'organise ?",
        "posts": [
            (
                "marion.g38",
                "Je propose une balade de recensement un samedi matin. Méthode :\n\n"
                "- une photo par caméra, prise depuis l'espace public ;\n"
                "- l'adresse ou le carrefour ;\n"
                "- le type (dôme, fixe, thermique...) ;\n"
                "- **aucune personne reconnaissable** sur les photos.\n\n"
                "Qui est partant ?",
                138.7,
            ),
            (
                "karim.mtz",
                "On a fait pareil à Metz. Conseil : notez aussi la date et l'heure, et "
                "vérifiez la présence du panneau d'information, qui est obligatoire.",
                101.5,
            ),
            (
                "marion.g38",
                "Première balade faite ! Les photos sont triées et floutées. On publiera le "
                "décompte une fois recoupé avec les arrêtés préfectoraux d'autorisation.",
                6.4,
            ),
        ],
    },
]

# Findings of the watch record, each drawn from a demo post: (thread title, index of the post
# in that thread). Figures from ../shared/reference/facts.md; proposed by the post's author.
# Each quantity says what it counts: the city's total, a change (the promise of 1 000 more
# cameras), or a part (one contract, one district).
METZ_THREAD = "Metz - équipement et utilisation"
METZ_ELECTIONS = "Municipales 2020 : ce que promettaient les candidats sur la surveillance"
SE_SENSORS = "Capteurs sonores à Beaubrun-Tarentaize : chronologie"
SE_CAMERAS = "Caméras municipales : 329 en 2019, et combien ça coûte ?"
MTP_MOTION = "Motion de décembre 2022 contre l'analyse automatisée des images"
MTP_LETTER = "Lettre ouverte du 10 mars 2020 aux candidats : toujours sans réponse"
MTP_DRONES = "Drones de police : l'engagement de 2020 tient-il ?"

FINDINGS: list[dict[str, Any]] = [
    # ------------------------------------------------------------------------ Metz
    {"board": "metz", "kind": "cameras", "quantity": "35", "unit": "count", "observed": "2008",
     "scope": "total",
     "status": "in-use", "sources": [(METZ_THREAD, 0)],
     "note": "Caméras de la police municipale, d'après l'enquête de l'association locale."},
    {"board": "metz", "kind": "cameras", "quantity": "72", "unit": "count",
     "scope": "total",
     "observed": "2014-11", "status": "in-use", "sources": [(METZ_THREAD, 0)],
     "note": "Même enquête, chiffre de novembre 2014."},
    {"board": "metz", "kind": "cameras", "quantity": "128", "unit": "count", "observed": "2018",
     "scope": "total",
     "status": "in-use", "sources": [(METZ_THREAD, 0)]},
    {"board": "metz", "kind": "cameras", "quantity": "148", "unit": "count", "observed": "2020",
     "scope": "total",
     "status": "in-use", "sources": [(METZ_THREAD, 0), (METZ_THREAD, 13)],
     "note": "Compté pendant le premier confinement ; recoupé avec la presse régionale."},
    {"board": "metz", "kind": "cameras", "quantity": "21", "unit": "km2", "observed": "2020",
     "scope": "total",
     "status": "in-use", "sources": [(METZ_THREAD, 12)],
     "place": "Périmètres de vidéosurveillance autorisés",
     "note": "Environ la moitié de la surface de la commune."},
    {"board": "metz", "kind": "cameras", "quantity": "200 000", "unit": "eur",
     "scope": "part",
     "observed": "2019", "status": "voted", "sources": [(METZ_THREAD, 3)],
     "links": [("https://example.org/deliberations/dcm-19-02-28-14.pdf",
                "Délibération DCM 19-02-28-14")],
     "note": "Renouvellement d'une partie du matériel, pas une extension du parc."},
    {"board": "metz", "kind": "cameras", "quantity": "250 000", "unit": "eur",
     "scope": "part",
     "observed": "2020-02", "status": "voted", "sources": [(METZ_THREAD, 4)],
     "links": [("https://example.org/marches/metz-2020-02-videoprotection.html",
                "Avis de marché, février 2020")],
     "note": "Appel d'offres : pose et maintenance de 10 caméras supplémentaires."},
    {"board": "metz", "kind": "cameras", "quantity": "1 000", "unit": "count",
     "scope": "change",
     "observed": "2020-03", "status": "planned", "sources": [(METZ_ELECTIONS, 0)],
     "links": [("https://example.org/archives/municipales-2020-metz-programme.pdf",
                "Programme archivé")],
     "note": "Promesse d'un candidat aux municipales : 1 000 caméras de plus."},
    {"board": "metz", "kind": "supervision-centre", "quantity": "8", "unit": "agents",
     "scope": "total",
     "observed": "2020", "status": "in-use", "sources": [(METZ_THREAD, 1)],
     "links": [("https://example.org/metz/rapport-centre-supervision-urbaine.pdf",
                "Rapport de la ville sur le CSU")],
     "note": "Agents devant les écrans, 24 h/24 ; 1,5 poste de technicien en plus."},
    {"board": "metz", "kind": "supervision-centre", "quantity": "15", "unit": "days",
     "scope": "total",
     "observed": "2020", "status": "in-use", "sources": [(METZ_THREAD, 1)],
     "note": "Durée de conservation des images."},
    {"board": "metz", "kind": "thermal-cameras", "observed": "2020", "status": "in-use",
     "sources": [(METZ_THREAD, 6)], "place": "Passages piétons",
     "note": "Elles règlent la durée du feu selon la présence de piétons."},
    {"board": "metz", "kind": "drones", "observed": "2020-04", "status": "in-use",
     "sources": [(METZ_THREAD, 8)], "place": "Parcs des bords de Moselle",
     "latitude": "49.1205", "longitude": "6.1655",
     "note": "Survols pendant le premier confinement, parcs fermés par arrêté préfectoral."},
    {"board": "metz", "kind": "facial-recognition", "observed": "2020-01", "status": "in-use",
     "sources": [(METZ_THREAD, 9)], "place": "Stade de football",
     "latitude": "49.1097", "longitude": "6.1595",
     "links": [("https://example.org/presse/metz-stade-reconnaissance-faciale",
                "Article de presse")],
     "note": "Essai mené par le club avec une entreprise privée, selon la presse."},
    # --------------------------------------------------------------- Saint-Étienne
    {"board": "saint-etienne", "kind": "sound-sensors", "quantity": "50", "unit": "count",
     "scope": "part",
     "observed": "2019", "status": "planned", "sources": [(SE_SENSORS, 0)],
     "place": "Quartier Beaubrun-Tarentaize", "latitude": "45.4420", "longitude": "4.3790",
     "note": "Une cinquantaine de capteurs annoncés, reliés aux caméras."},
    {"board": "saint-etienne", "kind": "sound-sensors", "quantity": "30 000", "unit": "eur",
     "scope": "part",
     "observed": "2019", "status": "voted", "sources": [(SE_SENSORS, 0), (SE_SENSORS, 2)],
     "note": "Les trois premiers capteurs, payés à 80 % par l'ANRU."},
    {"board": "saint-etienne", "kind": "sound-sensors", "observed": "2019-10",
     "status": "abandoned", "sources": [(SE_SENSORS, 0)],
     "place": "Quartier Beaubrun-Tarentaize", "latitude": "45.4420", "longitude": "4.3790",
     "note": "Projet abandonné après un avertissement de la CNIL, selon la presse."},
    {"board": "saint-etienne", "kind": "cameras", "quantity": "67", "unit": "count",
     "scope": "total",
     "observed": "2006", "status": "installed", "sources": [(SE_CAMERAS, 0)],
     "note": "Achetées en cinq ans, d'après la chambre régionale des comptes."},
    {"board": "saint-etienne", "kind": "cameras", "quantity": "329", "unit": "count",
     "scope": "total",
     "observed": "2019", "status": "in-use", "sources": [(SE_CAMERAS, 0)],
     "note": "Trois fois plus qu'en 2014, selon le collectif local."},
    {"board": "saint-etienne", "kind": "cameras", "quantity": "340 000",
     "scope": "total",
     "unit": "eur-per-year", "observed": "2006", "status": "installed",
     "sources": [(SE_CAMERAS, 0)],
     "note": "Achats de caméras par an (chambre régionale des comptes) ; maintenance en plus."},
    {"board": "saint-etienne", "kind": "supervision-centre", "quantity": "900 000",
     "scope": "total",
     "unit": "eur-per-year", "observed": "2006", "status": "in-use",
     "sources": [(SE_CAMERAS, 0)], "note": "Coût du personnel du centre de supervision."},
    # ----------------------------------------------------------------- Montpellier
    {"board": "montpellier", "kind": "facial-recognition", "observed": "2022-12",
     "status": "forbidden", "sources": [(MTP_MOTION, 0)],
     "links": [("https://example.org/montpellier/conseil/motion-2022-12.pdf",
                "Texte de la motion")],
     "note": "Motion du conseil municipal : portée politique, pas la force d'un règlement."},
    {"board": "montpellier", "kind": "drones", "observed": "2020", "status": "forbidden",
     "sources": [(MTP_LETTER, 2), (MTP_DRONES, 0)],
     "note": "Engagement du maire de ne pas utiliser de drones de police municipale."},
]

# Each city's population (issue 14: figures per 10 000 inhabitants), entered by a moderator
# from INSEE's figures; the coordinates are the town hall's and place the city on the map.
INSEE = ("https://www.insee.fr/fr/accueil", "INSEE, populations légales 2021 (recensement)")
POPULATION_NOTE = ("Population municipale au 1er janvier 2021, arrondie au millier : "
                   "vérifier le chiffre exact sur le site de l'INSEE avant de le citer.")
POPULATIONS: list[dict[str, Any]] = [
    {"board": "metz", "quantity": "121 000", "latitude": "49.1197", "longitude": "6.1764"},
    {"board": "saint-etienne", "quantity": "173 000", "latitude": "45.4397",
     "longitude": "4.3872"},
    {"board": "montpellier", "quantity": "302 000", "latitude": "43.5995",
     "longitude": "3.8967"},
    {"board": "grenoble", "quantity": "156 000", "latitude": "45.1866", "longitude": "5.7360"},
]


# Records requests (demandes CADA) at different stages: (status, days ago, note) after sending.
REQUESTS: list[dict[str, Any]] = [
    {"board": "metz", "author": "Bastien_57", "channel": "email", "sent": 120,
     "administration": "Mairie de Metz",
     "documents": "Plan d'implantation à jour des caméras de vidéoprotection\n"
                  "Rapport d'activité 2024 du centre de supervision urbaine",
     "events": [("answered_part", 85, "Le plan est arrivé ; le rapport d'activité est refusé"
                 " au nom de la sécurité publique."),
                ("cada_referral", 60, "Saisine envoyée en ligne, pour le rapport seulement."),
                ("cada_favourable", 22, "Avis favorable, noms des agents à occulter.")]},
    {"board": "metz", "author": "karim.mtz", "channel": "mail", "sent": 50,
     "administration": "Préfecture de la Moselle",
     "documents": "Arrêtés autorisant les systèmes de vidéoprotection de la ville depuis 2020",
     "events": []},  # no answer: an implicit refusal by now
    {"board": "metz", "author": "Bastien_57", "channel": "online", "sent": 12,
     "administration": "Mairie de Metz",
     "documents": "Cahier des clauses techniques du marché de 2020 (dix caméras de plus)\n"
                  "Avenants au contrat de maintenance",
     "events": []},
    {"board": "metz", "author": "lea", "channel": "hand", "sent": 210, "received": 210,
     "administration": "Metz Métropole",
     "documents": "Délibérations sur le financement du centre de supervision urbaine",
     "events": [("answered", 180, "Copies remises au guichet, trois semaines plus tard."),
                ("obtained", 180, "")]},
    {"board": "montpellier", "author": "yann-34", "channel": "email", "sent": 90,
     "administration": "Mairie de Montpellier",
     "documents": "Compte rendu de la séance de décembre 2022 (motion sur l'analyse"
                  " automatisée des images)\nNote de la police municipale sur les drones",
     "events": [("answered", 64, "Les deux documents, en PDF, par retour de courriel."),
                ("obtained", 63, "")]},
    {"board": "montpellier", "author": "yann-34", "channel": "mail", "sent": 160,
     "received": 156,
     "administration": "Direction départementale de la sécurité publique de l'Hérault",
     "documents": "Convention de coordination entre police municipale et police nationale",
     "events": [("refused", 135, "Réponse écrite : document jugé non communicable."),
                ("cada_referral", 110, ""),
                ("cada_unfavourable", 70, "La commission suit l'administration."),
                ("abandoned", 40, "Pas de recours devant le tribunal pour l'instant.")]},
    {"board": "montpellier", "author": "camille.l", "channel": "online", "sent": 20,
     "administration": "Mairie de Montpellier",
     "documents": "Liste des logiciels d'analyse d'images testés ou achetés depuis 2020",
     "events": []},
]
