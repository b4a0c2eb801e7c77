"""Scripted customer personas for ``--script demo`` (data only)."""

from __future__ import annotations

from typing import Any

AD_REFERRAL = {
    "source_url": "https://fb.me/sim-ad-verano",
    "source_id": "120211111111111111",
    "source_type": "ad",
    "headline": "Rebajas de verano ☀️",
    "body": "Escríbenos por WhatsApp y te asesoramos",
    "media_type": "image",
    "image_url": "https://example.invalid/ads/summer.jpg",
    "thumbnail_url": "https://example.invalid/ads/summer_thumb.jpg",
    "welcome_message": {"text": "¡Hola! ¿En qué podemos ayudarte?"},
}

PERSONAS: list[dict[str, Any]] = [
    {
        "key": "lucia",
        "name": "Lucía Fernández",
        "wa_id": "34612345678",
        "steps": [
            {"type": "text", "text": "¡Hola! Vi vuestro anuncio 😊 ¿Tenéis la chaqueta en azul?",
             "referral": AD_REFERRAL},
            {"type": "image", "caption": "Esta es la que vi en la tienda de Málaga 👆"},
            {"type": "text", "text": "¿Cuánto tardaría el envío a Sevilla? Necesito que llegue "
                                     "antes del sábado 🙏"},
            {"type": "location", "location": {"latitude": 37.3891, "longitude": -5.9845,
                                              "name": "Casa", "address": "Calle Feria 12, "
                                                                         "Sevilla"}},
            {"type": "quoted", "text": "Perfecto, me lo quedo ✅"},
        ],
        "replies": ["¡Genial, gracias! 🙌", "Vale, lo miro y te digo.",
                    "¿Y aceptáis Bizum?", "Muchísimas gracias por la atención 💐"],
    },
    {
        "key": "joao",
        "name": "João Pereira",
        # Registered without the mobile 9 (old Brazilian account): sends to
        # +55 11 9XXXX-XXXX come back with this wa_id.
        "wa_id": "551187654321",
        "phone": "5511987654321",
        "steps": [
            {"type": "text", "text": "Olá! Vocês entregam em São Paulo? 🇧🇷"},
            {"type": "audio", "voice": True},
            {"type": "text", "text": "Qual é o prazo de entrega pra Campinas? Preciso até "
                                     "sexta-feira 😅"},
            {"type": "document", "filename": "comprovante_pagamento.pdf",
             "caption": "Segue o comprovante do Pix"},
            {"type": "button_reply"},
        ],
        "replies": ["Obrigado! 👍", "Beleza, fico no aguardo.", "Pode ser amanhã à tarde?",
                    "Valeu! Até mais 😄"],
    },
    {
        "key": "guadalupe",
        "name": "Guadalupe Ramírez",
        "wa_id": "5215512345678",
        "steps": [
            {"type": "text", "text": "Buenas tardes, ¿me pueden cotizar 3 piezas del modelo "
                                     "Ñandú? 🙂", "referral": {
                                         **AD_REFERRAL, "headline": "Envío gratis a todo "
                                                                    "México 🚚"}},
            {"type": "image", "caption": "¿Este color sí lo manejan?"},
            {"type": "quoted", "text": "Sí, ese mero 👌 ¿aceptan pago en OXXO?"},
            {"type": "text", "text": "Mi dirección es Av. Insurgentes Sur 1602, CDMX 📦"},
        ],
        "replies": ["Órale, gracias 🙌", "Sale, quedo pendiente.",
                    "¿Me pueden mandar la factura?"],
    },
    {
        "key": "martin",
        "name": "Martín Gómez",
        "wa_id": "5491123456789",
        "steps": [
            {"type": "text", "text": "Hola, ¿cómo andan? Quería consultar por el pedido #4521 🧉"},
            {"type": "audio", "voice": True},
            {"type": "location", "location": {"latitude": -34.6037, "longitude": -58.3816,
                                              "name": "Obelisco",
                                              "address": "Av. 9 de Julio s/n, CABA"}},
            {"type": "text", "text": "Dale, buenísimo. ¿Lo puedo retirar el miércoles?"},
        ],
        "replies": ["Genial, mil gracias!", "Joya 👍", "¿Tienen cuotas sin interés?"],
    },
    {
        "key": "emily",
        "name": "Emily Carter",
        "wa_id": "447700900123",
        "steps": [
            {"type": "text", "text": "Hi there! Is the café table still in stock? ☕"},
            {"type": "document", "filename": "floor_plan.pdf", "caption": "Our floor plan"},
            {"type": "button_reply"},
            {"type": "text", "text": "Lovely, thanks so much! Could you deliver on Friday?"},
        ],
        "replies": ["Thanks! 😊", "Perfect, cheers.", "Could you send the invoice as well?",
                    "Great, see you then 👋"],
    },
    {
        "key": "rafaela",
        "name": "Rafaela Costa",
        # Uses a WhatsApp username: her webhooks carry only her BSUID, never the number,
        # and the business answers her through ``recipient``.
        "wa_id": "5521998877665",
        "username": "@rafa.decor",
        "username_only": True,
        "steps": [
            {"type": "text", "text": "Oi! Vocês fazem cortinas sob medida? 🪟"},
            {"type": "image", "caption": "A janela da sala, 2,40 m de largura"},
            {"type": "quoted", "text": "Pode ser em linho cru, por favor 😊"},
        ],
        "replies": ["Perfeito, obrigada! 💛", "Quanto fica a instalação?", "Combinado!"],
    },
]
