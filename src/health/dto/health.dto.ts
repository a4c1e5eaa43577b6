import { ApiProperty } from '@nestjs/swagger';

export class LiveView {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

export class ReadyView extends LiveView {
  @ApiProperty({ enum: ['up'] }) database!: 'up';
}
