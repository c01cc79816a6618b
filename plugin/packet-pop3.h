/* packet-pop3.h - registration entry points of the POP3 dissector.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PACKET_POP3_H
#define PACKET_POP3_H

void proto_register_pop3(void);
void proto_reg_handoff_pop3(void);

#endif /* PACKET_POP3_H */
