import { Message } from "@mail/core/common/message";
import { WhatsappCrmTicks } from "../common/whatsapp_ticks";

Object.assign(Message.components, { WhatsappCrmTicks });
